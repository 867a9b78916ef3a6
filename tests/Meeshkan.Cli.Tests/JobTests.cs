using System.Diagnostics;
using Meeshkan.Testing;

namespace Meeshkan.Cli.Tests;

[TestFixture]
public sealed class JobTests
{
    private MeeshkanSandbox _sandbox = null!;

    [SetUp]
    public void StartAgent()
    {
        _sandbox = new MeeshkanSandbox();
        _sandbox.Start();
    }

    [TearDown]
    public void StopAgent() => _sandbox.Dispose();

    [Test]
    public void A_python_script_runs_in_the_submitters_folder_with_their_environment()
    {
        _sandbox.WriteFile("hello.py", """
            import os, sys
            print("hello from", os.getcwd())
            print("GREETING", os.environ.get("GREETING"))
            print("JOB", os.environ["MEESHKAN_JOB_ID"])
            print("ARGS", sys.argv[1:])
            import meeshkan
            print("CLIENT", meeshkan.__file__)
            """);
        _sandbox.Environment["GREETING"] = "bonjour";
        var number = _sandbox.Submit("hello.py", "--lr", "0.1");
        var job = _sandbox.WaitForEnd(number);
        var logs = _sandbox.Run("logs", number.ToString());
        Assert.That(job.State, Is.EqualTo("FINISHED"), logs.ToString());
        Assert.That(logs.Stdout, Does.Contain($"hello from {_sandbox.WorkDir}"));
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
        _sandbox.WriteFile("plain.py", "print('plain run')\n");
        var result = _sandbox.Run("plain.py");
        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        Assert.That(result.Stdout, Does.StartWith("Job 1 submitted"));
        _sandbox.WaitForEnd(1);
        Assert.That(_sandbox.Ok("logs", "1"), Does.Contain("plain run"));
    }

    [Test]
    public void A_shell_script_runs_with_bash_and_a_failure_keeps_its_exit_status()
    {
        _sandbox.WriteFile("fail.sh", "echo out; echo oops >&2; [[ 1 == 1 ]] && exit 7\n");
        var number = _sandbox.Submit("-n", "failing", "fail.sh");
        var job = _sandbox.WaitForEnd(number);
        Assert.That(job.State, Is.EqualTo("FAILED"));
        Assert.That(job.ExitCode, Is.EqualTo(7));
        Assert.That(job.FailureReason, Does.Contain("exit status 7"));
        var logs = _sandbox.Run("logs", "failing");
        Assert.That(logs.Stdout, Is.EqualTo("out\n"));
        Assert.That(logs.Stderr, Does.StartWith("oops\n"));
    }

    [Test]
    public void A_command_runs_as_argv_without_a_shell()
    {
        var number = _sandbox.Submit("--", "echo", "$HOME", "a;b", "--flag");
        _sandbox.WaitForEnd(number);
        Assert.That(_sandbox.Ok("logs", number.ToString()), Is.EqualTo("$HOME a;b --flag\n"));
    }

    [Test]
    public void Jobs_run_one_at_a_time_in_submission_order()
    {
        var log = Path.Combine(_sandbox.WorkDir, "order.log");
        _sandbox.WriteFile("step.sh", $"echo start $1 >> {log}; sleep 0.3; echo end $1 >> {log}\n");
        var numbers = new[] { "a", "b", "c" }.Select(n => _sandbox.Submit("-n", n, "step.sh", n)).ToArray();
        foreach (var number in numbers)
        {
            _sandbox.WaitForEnd(number);
        }
        Assert.That(File.ReadAllLines(log), Is.EqualTo(new[] { "start a", "end a", "start b", "end b", "start c", "end c" }));
        Assert.That(numbers.Select(n => _sandbox.Job(n)!.State), Is.All.EqualTo("FINISHED"));
    }

    [Test]
    public void Short_jobs_back_to_back_each_keep_their_own_exit_status_and_never_overlap()
    {
        // The scheduler starts the next job before it records the last one's end: each end must still land on its
        // own job, and the recorded times must still show one job at a time.
        var numbers = Enumerable.Range(0, 12).Select(i => _sandbox.Submit("sh", "-c", $"exit {i % 3}")).ToArray();
        _sandbox.WaitForEnd(numbers[^1]);
        var jobs = _sandbox.Jobs().ToDictionary(j => j.Number);
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
        var marker = Path.Combine(_sandbox.WorkDir, "ran");
        var release = Path.Combine(_sandbox.WorkDir, "release");
        _sandbox.WriteFile("hold.sh", $"while [ ! -f {release} ]; do sleep 0.05; done\n");
        _sandbox.Submit("sleep", "0.3");
        var running = _sandbox.Submit("hold.sh");
        var queued = _sandbox.Submit("-n", "later", "touch", marker);
        _sandbox.WaitForState(running, TimeSpan.FromSeconds(10), "RUNNING");
        Thread.Sleep(200);
        _sandbox.Ok("cancel", "later");
        File.WriteAllText(release, "");
        _sandbox.WaitForEnd(running);
        var after = _sandbox.Submit("true");
        _sandbox.WaitForEnd(after);
        Assert.That(_sandbox.Job(queued)!.State, Is.EqualTo("CANCELED"));
        Assert.That(File.Exists(marker), Is.False, "the canceled job ran");
    }

    [Test]
    public void The_agent_watches_no_folder()
    {
        // The web host's defaults used to watch the agent's working folder, and every folder below it, with inotify.
        _sandbox.Submit("true");
        var pid = _sandbox.AgentPid ?? throw new InvalidOperationException("no agent pid");
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
        var number = _sandbox.Submit("-n", "resnet-lr-0.1", "true");
        _sandbox.Submit("-n", "resnet-lr-0.2", "true");
        var job = _sandbox.WaitForEnd(number);
        foreach (var identifier in new[] { number.ToString(), job.Id, "resnet-lr-0.1", "resnet*", "resnet", "*0.1" })
        {
            var found = _sandbox.Run("logs", identifier);
            Assert.That(found.ExitCode, Is.Zero, identifier + ": " + found);
            Assert.That(found.Stderr, Does.Contain($"job {number} (resnet-lr-0.1)"), identifier);
        }
        Assert.That(_sandbox.Run("logs", "*0.2").Stderr, Does.Contain("job 2 "));
        var missing = _sandbox.Run("logs", "nothing-like-this");
        Assert.That(missing.ExitCode, Is.Not.Zero);
        Assert.That(missing.Stderr, Does.Contain("no job matches 'nothing-like-this'"));
    }

    [Test]
    public void Logs_follow_a_running_job_until_it_ends()
    {
        var release = Path.Combine(_sandbox.WorkDir, "release");
        _sandbox.WriteFile("count.sh", $"echo line 1; echo line 2; while [ ! -f {release} ]; do sleep 0.05; done; echo line 3\n");
        var number = _sandbox.Submit("count.sh");
        _sandbox.WaitForState(number, TimeSpan.FromSeconds(30), "RUNNING");
        var follow = Task.Run(() => _sandbox.Run("logs", "-f", number.ToString()));
        Thread.Sleep(1000);
        Assert.That(follow.IsCompleted, Is.False, "follow waits while the job runs");
        File.WriteAllText(release, "");
        var followed = follow.Result;
        Assert.That(followed.ExitCode, Is.Zero, followed.ToString());
        Assert.That(followed.Stdout, Is.EqualTo("line 1\nline 2\nline 3\n"));
        Assert.That(_sandbox.Job(number)!.State, Is.EqualTo("FINISHED"));
    }

    [Test]
    public void Cancel_a_queued_job_at_once()
    {
        var running = _sandbox.Submit("sleep", "30");
        var queued = _sandbox.Submit("-n", "later", "true");
        _sandbox.WaitForState(running, TimeSpan.FromSeconds(10), "RUNNING");
        var result = _sandbox.Run("cancel", "later");
        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        Assert.That(result.Stdout, Does.Contain("canceled (was QUEUED)"));
        Assert.That(_sandbox.Job(queued)!.State, Is.EqualTo("CANCELED"));
        _sandbox.Ok("cancel", "-y", running.ToString());
    }

    [Test]
    public void Cancel_a_running_job_kills_its_whole_process_tree()
    {
        var pids = Path.Combine(_sandbox.WorkDir, "pids");
        _sandbox.WriteFile("tree.sh", $"sleep 300 & echo $! >> {pids}; sleep 300 & echo $! >> {pids}; echo $$ >> {pids}; wait\n");
        var number = _sandbox.Submit("tree.sh");
        _sandbox.WaitForState(number, TimeSpan.FromSeconds(10), "RUNNING");
        Wait.For(() => File.Exists(pids) && File.ReadAllLines(pids).Length == 3, "the job and its two children", 30);
        var tree = File.ReadAllLines(pids).Select(int.Parse).ToArray();
        Assert.That(tree.All(Processes.Alive), Is.True);

        var refused = _sandbox.Run("cancel", number.ToString());
        Assert.That(refused.ExitCode, Is.Not.Zero, "a running job needs confirmation");
        Assert.That(refused.Stderr, Does.Contain("-y"));
        Assert.That(_sandbox.Job(number)!.State, Is.EqualTo("RUNNING"));

        var declined = _sandbox.RunWithInput("n\n", "cancel", number.ToString());
        Assert.That(_sandbox.Job(number)!.State, Is.EqualTo("RUNNING"), declined.ToString());

        var canceled = _sandbox.Run("cancel", "-y", number.ToString());
        Assert.That(canceled.ExitCode, Is.Zero, canceled.ToString());
        Assert.That(_sandbox.Job(number)!.State, Is.EqualTo("CANCELED"));
        Wait.For(() => !tree.Any(Processes.Alive), "the whole tree gone", 30);
        Assert.That(tree.Where(Processes.Alive), Is.Empty, "every process of the job is gone");
    }

    [Test]
    public void A_job_that_ignores_sigterm_is_killed_after_the_grace_period()
    {
        _sandbox.WriteFile("stubborn.sh", "trap '' TERM; echo ready; while true; do sleep 0.1; done\n");
        var number = _sandbox.Submit("stubborn.sh");
        _sandbox.WaitForState(number, TimeSpan.FromSeconds(10), "RUNNING");
        var clock = Stopwatch.StartNew();
        var result = _sandbox.Run("cancel", "-y", "--grace", "1", number.ToString());
        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        Assert.That(clock.Elapsed, Is.GreaterThan(TimeSpan.FromSeconds(0.9)).And.LessThan(TimeSpan.FromSeconds(10)));
        Assert.That(_sandbox.Job(number)!.State, Is.EqualTo("CANCELED"));
    }

    [Test]
    public void Clear_removes_ended_jobs_but_never_a_running_one()
    {
        var done = _sandbox.Submit("echo", "done");
        _sandbox.WaitForEnd(done);
        var running = _sandbox.Submit("sleep", "30");
        var runningJob = _sandbox.WaitForState(running, TimeSpan.FromSeconds(10), "RUNNING");
        var doneFolder = Path.Combine(_sandbox.Home, "jobs", done.ToString());
        Assert.That(Directory.Exists(doneFolder), Is.True);

        var cleared = _sandbox.Run("clean");
        Assert.That(cleared.ExitCode, Is.Zero, cleared.ToString());
        Assert.That(cleared.Stdout, Does.Contain("Cleared 1 ended job"));
        Assert.That(Directory.Exists(doneFolder), Is.False);
        Assert.That(Directory.Exists(runningJob.OutputDirectory), Is.True);
        Assert.That(_sandbox.Jobs().Select(j => j.Number), Is.EqualTo(new[] { running }));
        Assert.That(_sandbox.Ok("clear"), Does.Contain("Nothing to clear"));
    }

    [Test]
    public void List_shows_a_readable_table()
    {
        _sandbox.Submit("-n", "first", "echo", "x");
        _sandbox.WaitForEnd(1);
        var list = _sandbox.Ok("list");
        var lines = list.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines[0], Does.Match(@"^#\s+NAME\s+STATUS\s+STARTED\s+DURATION"));
        Assert.That(lines[1], Does.Match(@"^1\s+first\s+FINISHED\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+(\d+\.\ds|\d+ms|<1ms)\s+.*echo x$"));
    }

    [Test]
    public void Report_says_honestly_when_there_is_nothing_and_notifications_keep_the_history()
    {
        var number = _sandbox.Submit("true");
        _sandbox.WaitForEnd(number);
        Assert.That(_sandbox.Ok("report", number.ToString()), Does.Contain("no scalars reported yet"));
        var history = _sandbox.Ok("notifications", number.ToString());
        Assert.That(history, Does.Contain("job_started").And.Contain("job_finished"), "with no channel configured, the agent's own history");
        Assert.That(history, Does.Contain("history  SUCCESS"));
    }
}
