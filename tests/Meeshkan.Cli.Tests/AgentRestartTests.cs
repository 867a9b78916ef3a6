using System.Diagnostics;
using Meeshkan.Testing;

namespace Meeshkan.Cli.Tests;

/// <summary>Running jobs outlive the agent; queued jobs survive it; the next agent picks both up.</summary>
[TestFixture]
public sealed class AgentRestartTests
{
    [Test]
    public void Stop_leaves_a_running_job_running_and_the_next_start_records_its_true_exit_status()
    {
        using var sandbox = new MeeshkanSandbox();
        sandbox.Start();
        var release = Path.Combine(sandbox.WorkDir, "release");
        sandbox.WriteFile("long.sh", $"echo before; while [ ! -f {release} ]; do sleep 0.05; done; echo after; exit 5\n");
        var number = sandbox.Submit("long.sh");
        var queued = sandbox.Submit("echo", "queued ran");
        var pid = sandbox.WaitForState(number, TimeSpan.FromSeconds(10), "RUNNING").Pid;

        var stop = sandbox.Ok("stop");
        Assert.That(stop, Does.Contain($"Job(s) {number} keep running"));
        Assert.That(Processes.Alive(pid), Is.True, "the job outlives the agent");

        File.WriteAllText(release, "");
        Wait.For(() => !Processes.Alive(pid), "the job's process gone", 30);
        sandbox.Start();
        var ended = sandbox.WaitForEnd(number);
        Assert.That(ended.State, Is.EqualTo("FAILED"));
        Assert.That(ended.ExitCode, Is.EqualTo(5), "the true exit status, recorded while no agent ran");
        Assert.That(sandbox.Ok("logs", number.ToString()), Is.EqualTo("before\nafter\n"), "no log line lost");
        Assert.That(sandbox.WaitForEnd(queued).State, Is.EqualTo("FINISHED"));
    }

    [Test]
    public void A_restarted_agent_re_adopts_a_job_that_is_still_running()
    {
        using var sandbox = new MeeshkanSandbox();
        sandbox.Start();
        var release = Path.Combine(sandbox.WorkDir, "release");
        sandbox.WriteFile("wait.sh", $"while [ ! -f {release} ]; do sleep 0.05; done; echo done\n");
        var number = sandbox.Submit("wait.sh");
        var next = sandbox.Submit("echo", "next");
        sandbox.WaitForState(number, TimeSpan.FromSeconds(10), "RUNNING");
        sandbox.Ok("stop");
        sandbox.Start();
        Assert.That(Job(sandbox, number).State, Is.EqualTo("RUNNING"));
        Assert.That(Job(sandbox, next).State, Is.EqualTo("QUEUED"), "one job at a time, even after a restart");

        File.WriteAllText(release, "");
        Assert.That(sandbox.WaitForEnd(number).State, Is.EqualTo("FINISHED"));
        Assert.That(sandbox.WaitForEnd(next).State, Is.EqualTo("FINISHED"));
    }

    [Test]
    public void After_kill_9_of_the_agent_queued_jobs_all_run_in_order()
    {
        using var sandbox = new MeeshkanSandbox();
        sandbox.Start();
        var log = Path.Combine(sandbox.WorkDir, "order.log");
        var release = Path.Combine(sandbox.WorkDir, "release");
        sandbox.WriteFile("first.sh", $"while [ ! -f {release} ]; do sleep 0.05; done; echo first >> {log}\n");
        sandbox.WriteFile("next.sh", $"echo $1 >> {log}\n");
        var first = sandbox.Submit("first.sh");
        var others = Enumerable.Range(1, 5).Select(i => sandbox.Submit("next.sh", $"job{i}")).ToArray();
        sandbox.WaitForState(first, TimeSpan.FromSeconds(10), "RUNNING");

        Process.GetProcessById(sandbox.AgentPid!.Value).Kill();
        Thread.Sleep(300);
        File.WriteAllText(release, "");
        sandbox.Start();
        foreach (var number in others)
        {
            Assert.That(sandbox.WaitForEnd(number).State, Is.EqualTo("FINISHED"));
        }
        Assert.That(sandbox.Job(first)!.State, Is.EqualTo("FINISHED"));
        Assert.That(File.ReadAllLines(log), Is.EqualTo(new[] { "first", "job1", "job2", "job3", "job4", "job5" }));
    }

    [Test]
    public void Stop_with_cancel_jobs_cancels_the_running_job()
    {
        using var sandbox = new MeeshkanSandbox();
        sandbox.Start();
        var number = sandbox.Submit("sleep", "60");
        sandbox.WaitForState(number, TimeSpan.FromSeconds(10), "RUNNING");
        var pid = Job(sandbox, number).Pid;
        var stop = sandbox.Ok("stop", "--cancel-jobs");
        Assert.That(stop, Does.Contain($"Canceled running job(s): {number}"));
        Assert.That(Processes.Alive(pid), Is.False);
        sandbox.Start();
        Assert.That(Job(sandbox, number).State, Is.EqualTo("CANCELED"));
    }

    private static ListedJob Job(MeeshkanSandbox sandbox, long number) => sandbox.Job(number) ?? throw new AssertionException($"job {number} missing");

}
