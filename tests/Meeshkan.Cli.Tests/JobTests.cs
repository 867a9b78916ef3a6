using System.Diagnostics;
using Meeshkan.Testing;

namespace Meeshkan.Cli.Tests;

[TestFixture]
public sealed class JobTests() : SandboxFixture(AgentPer.Test)
{
    [Test]
    public void A_python_script_runs_in_the_submitters_folder_with_their_environment()
    {
        Sandbox.WriteFile("hello.py", """
            import os, sys
            print("hello from", os.getcwd())
            print("GREETING", os.environ.get("GREETING"))
            print("JOB", os.environ["MEESHKAN_JOB_ID"])
            print("ARGS", sys.argv[1:])
            import meeshkan
            print("CLIENT", meeshkan.__file__)
            """);
        Sandbox.Environment["GREETING"] = "bonjour";
        var number = Sandbox.Submit("hello.py", "--lr", "0.1");
        var job = Sandbox.WaitForEnd(number);
        var logs = Sandbox.Run("logs", number.ToString());
        Assert.That(job.State, Is.EqualTo("FINISHED"), logs.ToString());
        Assert.That(logs.Stdout, Does.Contain($"hello from {Sandbox.WorkDir}"));
        Assert.That(logs.Stdout, Does.Contain("GREETING bonjour"));
        Assert.That(logs.Stdout, Does.Contain($"JOB {job.Id}"));
        Assert.That(logs.Stdout, Does.Contain("ARGS ['--lr', '0.1']"));
        Assert.That(logs.Stdout, Does.Contain("CLIENT "), "the bundled Python client is importable");
        Assert.That(logs.Stderr, Does.Contain($"output folder: {job.OutputDirectory}"));
        Assert.That(File.ReadAllText(Path.Combine(job.OutputDirectory, "stdout")), Does.Contain("GREETING bonjour"));
    }

    [Test]
    public void A_script_without_a_command_word_is_submitted()
    {
        Sandbox.WriteFile("plain.py", "print('plain run')\n");
        var result = Sandbox.Run("plain.py");
        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        Assert.That(result.Stdout, Does.StartWith("Job 1 submitted"));
        Sandbox.WaitForEnd(1);
        Assert.That(Sandbox.Ok("logs", "1"), Does.Contain("plain run"));
    }

    [Test]
    public void A_shell_script_runs_with_bash_and_a_failure_keeps_its_exit_status()
    {
        Sandbox.WriteFile("fail.sh", "echo out; echo oops >&2; [[ 1 == 1 ]] && exit 7\n");
        var number = Sandbox.Submit("-n", "failing", "fail.sh");
        var job = Sandbox.WaitForEnd(number);
        Assert.That(job.State, Is.EqualTo("FAILED"));
        Assert.That(job.ExitCode, Is.EqualTo(7));
        Assert.That(job.FailureReason, Does.Contain("exit status 7"));
        var logs = Sandbox.Run("logs", "failing");
        Assert.That(logs.Stdout, Is.EqualTo("out\n"));
        Assert.That(logs.Stderr, Does.StartWith("oops\n"));
    }

    [Test]
    public void A_command_runs_as_argv_without_a_shell()
    {
        var number = Sandbox.Submit("--", "echo", "$HOME", "a;b", "--flag");
        Sandbox.WaitForEnd(number);
        Assert.That(Sandbox.Ok("logs", number.ToString()), Is.EqualTo("$HOME a;b --flag\n"));
    }

    [Test]
    public void Jobs_run_one_at_a_time_in_submission_order()
    {
        var log = Path.Combine(Sandbox.WorkDir, "order.log");
        Sandbox.WriteFile("step.sh", $"echo start $1 >> {log}; sleep 0.3; echo end $1 >> {log}\n");
        var numbers = new[] { "a", "b", "c" }.Select(n => Sandbox.Submit("-n", n, "step.sh", n)).ToArray();
        foreach (var number in numbers)
        {
            Sandbox.WaitForEnd(number);
        }
        Assert.That(File.ReadAllLines(log), Is.EqualTo(new[] { "start a", "end a", "start b", "end b", "start c", "end c" }));
        Assert.That(numbers.Select(n => Sandbox.Job(n)!.State), Is.All.EqualTo("FINISHED"));
    }

    [Test]
    public void Short_jobs_back_to_back_each_keep_their_own_exit_status_and_never_overlap()
    {
        // The scheduler starts the next job before it records the last one's end: each end must still land on its
        // own job, and the recorded times must still show one job at a time.
        var numbers = Enumerable.Range(0, 12).Select(i => Sandbox.Submit("sh", "-c", $"exit {i % 3}")).ToArray();
        Sandbox.WaitForEnd(numbers[^1]);
        var jobs = Sandbox.Jobs().ToDictionary(j => j.Number);
        for (var i = 0; i < numbers.Length; i++)
        {
            var job = jobs[numbers[i]];
            Assert.That((job.State, job.ExitCode), Is.EqualTo(i % 3 == 0 ? ("FINISHED", (int?)0) : ("FAILED", (int?)(i % 3))), $"job {job.Number}");
            if (i > 0)
            {
                Assert.That(job.StartedAt, Is.GreaterThanOrEqualTo(jobs[numbers[i - 1]].FinishedAt ?? DateTime.MaxValue), $"job {numbers[i]} started before job {numbers[i - 1]} ended");
            }
        }
    }

    [Test]
    public void A_queued_job_canceled_while_another_runs_never_starts()
    {
        // The job after the running one is read ahead while it runs; a cancel must drop that copy. The running job
        // ends when the test says so, however slow the machine is to start the CLI that cancels.
        var marker = Path.Combine(Sandbox.WorkDir, "ran");
        var release = Path.Combine(Sandbox.WorkDir, "release");
        Sandbox.WriteFile("hold.sh", $"while [ ! -f {release} ]; do sleep 0.05; done\n");
        Sandbox.Submit("sleep", "0.3");
        var running = Sandbox.Submit("hold.sh");
        var queued = Sandbox.Submit("-n", "later", "touch", marker);
        Sandbox.WaitForState(running, TimeSpan.FromSeconds(10), "RUNNING");
        Thread.Sleep(200);
        Sandbox.Ok("cancel", "later");
        File.WriteAllText(release, "");
        Sandbox.WaitForEnd(running);
        var after = Sandbox.Submit("true");
        Sandbox.WaitForEnd(after);
        Assert.That(Sandbox.Job(queued)!.State, Is.EqualTo("CANCELED"));
        Assert.That(File.Exists(marker), Is.False, "the canceled job ran");
    }

    [Test]
    public void The_agent_watches_no_folder()
    {
        // The web host's defaults used to watch the agent's working folder, and every folder below it, with inotify.
        Sandbox.Submit("true");
        var pid = Sandbox.AgentPid ?? throw new InvalidOperationException("no agent pid");
        var watchers = Directory.GetFiles($"/proc/{pid}/fd").Where(fd =>
        {
            try
            {
                return new FileInfo(fd).LinkTarget?.Contains("inotify", StringComparison.Ordinal) == true;
            }
            catch (IOException)
            {
                return false;
            }
        });
        Assert.That(watchers, Is.Empty);
    }

    [Test]
    public void Every_identifier_form_finds_the_job()
    {
        var number = Sandbox.Submit("-n", "resnet-lr-0.1", "true");
        Sandbox.Submit("-n", "resnet-lr-0.2", "true");
        var job = Sandbox.WaitForEnd(number);
        foreach (var identifier in new[] { number.ToString(), job.Id, "resnet-lr-0.1", "resnet*", "resnet", "*0.1" })
        {
            var found = Sandbox.Run("logs", identifier);
            Assert.That(found.ExitCode, Is.Zero, identifier + ": " + found);
            Assert.That(found.Stderr, Does.Contain($"job {number} (resnet-lr-0.1)"), identifier);
        }
        Assert.That(Sandbox.Run("logs", "*0.2").Stderr, Does.Contain("job 2 "));
        var missing = Sandbox.Run("logs", "nothing-like-this");
        Assert.That(missing.ExitCode, Is.Not.Zero);
        Assert.That(missing.Stderr, Does.Contain("no job matches 'nothing-like-this'"));
    }

    [Test]
    public void Logs_follow_a_running_job_until_it_ends()
    {
        var release = Path.Combine(Sandbox.WorkDir, "release");
        Sandbox.WriteFile("count.sh", $"echo line 1; echo line 2; while [ ! -f {release} ]; do sleep 0.05; done; echo line 3\n");
        var number = Sandbox.Submit("count.sh");
        Sandbox.WaitForState(number, TimeSpan.FromSeconds(30), "RUNNING");
        var follow = Task.Run(() => Sandbox.Run("logs", "-f", number.ToString()));
        Thread.Sleep(1000);
        Assert.That(follow.IsCompleted, Is.False, "follow waits while the job runs");
        File.WriteAllText(release, "");
        var followed = follow.Result;
        Assert.That(followed.ExitCode, Is.Zero, followed.ToString());
        Assert.That(followed.Stdout, Is.EqualTo("line 1\nline 2\nline 3\n"));
        Assert.That(Sandbox.Job(number)!.State, Is.EqualTo("FINISHED"));
    }

    [Test]
    public void Cancel_a_queued_job_at_once()
    {
        var running = Sandbox.Submit("sleep", "30");
        var queued = Sandbox.Submit("-n", "later", "true");
        Sandbox.WaitForState(running, TimeSpan.FromSeconds(10), "RUNNING");
        var result = Sandbox.Run("cancel", "later");
        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        Assert.That(result.Stdout, Does.Contain("canceled (was QUEUED)"));
        Assert.That(Sandbox.Job(queued)!.State, Is.EqualTo("CANCELED"));
        Sandbox.Ok("cancel", "-y", running.ToString());
    }

    [Test]
    public void Cancel_a_running_job_kills_its_whole_process_tree()
    {
        var pids = Path.Combine(Sandbox.WorkDir, "pids");
        Sandbox.WriteFile("tree.sh", $"sleep 300 & echo $! >> {pids}; sleep 300 & echo $! >> {pids}; echo $$ >> {pids}; wait\n");
        var number = Sandbox.Submit("tree.sh");
        Sandbox.WaitForState(number, TimeSpan.FromSeconds(10), "RUNNING");
        Wait.For(() => File.Exists(pids) && File.ReadAllLines(pids).Length == 3, "the job and its two children", 30);
        var tree = File.ReadAllLines(pids).Select(int.Parse).ToArray();
        Assert.That(tree.All(Processes.Alive), Is.True);

        var refused = Sandbox.Run("cancel", number.ToString());
        Assert.That(refused.ExitCode, Is.Not.Zero, "a running job needs confirmation");
        Assert.That(refused.Stderr, Does.Contain("-y"));
        Assert.That(Sandbox.Job(number)!.State, Is.EqualTo("RUNNING"));

        var declined = Sandbox.RunWithInput("n\n", "cancel", number.ToString());
        Assert.That(Sandbox.Job(number)!.State, Is.EqualTo("RUNNING"), declined.ToString());

        var canceled = Sandbox.Run("cancel", "-y", number.ToString());
        Assert.That(canceled.ExitCode, Is.Zero, canceled.ToString());
        Assert.That(Sandbox.Job(number)!.State, Is.EqualTo("CANCELED"));
        Wait.For(() => !tree.Any(Processes.Alive), "the whole tree gone", 30);
        Assert.That(tree.Where(Processes.Alive), Is.Empty, "every process of the job is gone");
    }

    [Test]
    public void A_job_that_ignores_sigterm_is_killed_after_the_grace_period()
    {
        Sandbox.WriteFile("stubborn.sh", "trap '' TERM; echo ready; while true; do sleep 0.1; done\n");
        var number = Sandbox.Submit("stubborn.sh");
        Sandbox.WaitForState(number, TimeSpan.FromSeconds(10), "RUNNING");
        var clock = Stopwatch.StartNew();
        var result = Sandbox.Run("cancel", "-y", "--grace", "1", number.ToString());
        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        Assert.That(clock.Elapsed, Is.GreaterThan(TimeSpan.FromSeconds(0.9)).And.LessThan(TimeSpan.FromSeconds(10)));
        Assert.That(Sandbox.Job(number)!.State, Is.EqualTo("CANCELED"));
    }

    [Test]
    public void Clear_removes_ended_jobs_but_never_a_running_one()
    {
        var done = Sandbox.Submit("echo", "done");
        Sandbox.WaitForEnd(done);
        var running = Sandbox.Submit("sleep", "30");
        var runningJob = Sandbox.WaitForState(running, TimeSpan.FromSeconds(10), "RUNNING");
        var doneFolder = Path.Combine(Sandbox.Home, "jobs", done.ToString());
        Assert.That(Directory.Exists(doneFolder), Is.True);

        var cleared = Sandbox.Run("clean");
        Assert.That(cleared.ExitCode, Is.Zero, cleared.ToString());
        Assert.That(cleared.Stdout, Does.Contain("Cleared 1 ended job"));
        Assert.That(Directory.Exists(doneFolder), Is.False);
        Assert.That(Directory.Exists(runningJob.OutputDirectory), Is.True);
        Assert.That(Sandbox.Jobs().Select(j => j.Number), Is.EqualTo(new[] { running }));
        Assert.That(Sandbox.Ok("clear"), Does.Contain("Nothing to clear"));
    }

    [Test]
    public void List_shows_a_readable_table()
    {
        Sandbox.Submit("-n", "first", "echo", "x");
        Sandbox.WaitForEnd(1);
        var list = Sandbox.Ok("list");
        var lines = list.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines[0], Does.Match(@"^#\s+NAME\s+STATUS\s+STARTED\s+DURATION"));
        Assert.That(lines[1], Does.Match(@"^1\s+first\s+FINISHED\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+(\d+\.\ds|\d+ms|<1ms)\s+.*echo x$"));
    }

    [Test]
    public void Report_says_honestly_when_there_is_nothing_and_notifications_keep_the_history()
    {
        var number = Sandbox.Submit("true");
        Sandbox.WaitForEnd(number);
        Assert.That(Sandbox.Ok("report", number.ToString()), Does.Contain("no scalars reported yet"));
        var history = Sandbox.Ok("notifications", number.ToString());
        Assert.That(history, Does.Contain("job_started").And.Contain("job_finished"), "with no channel configured, the agent's own history");
        Assert.That(history, Does.Contain("history  SUCCESS"));
    }
}
