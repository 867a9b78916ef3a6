using System.Diagnostics;
using Meeshkan.Testing;

namespace Meeshkan.Cli.Tests;

/// <summary>A job has ended only when its processes have (docs/guarantees.md).</summary>
[TestFixture]
public sealed class ProcessLifetimeTests() : SandboxFixture(AgentPer.Test)
{
    private int[] Pids(string file) => File.ReadAllLines(Path.Combine(Sandbox.WorkDir, file)).Select(int.Parse).ToArray();

    [Test]
    public void A_canceled_job_that_traps_SIGTERM_runs_until_SIGKILL_and_the_next_job_starts_only_then()
    {
        // The job traps SIGTERM; its child ignores it. Both write their pids.
        Sandbox.WriteFile("noterm.py", """
            import os, signal, subprocess, sys, time
            signal.signal(signal.SIGTERM, lambda *_: None)
            child = subprocess.Popen(["/bin/sh", "-c", "trap '' TERM; while :; do sleep 0.1; done"])
            with open("a.pids", "w") as f:
                f.write(f"{os.getpid()}\n{child.pid}\n")
            while True:
                time.sleep(0.1)
            """);
        Sandbox.WriteFile("check.sh", """
            for pid in $(cat a.pids); do
              if kill -0 "$pid" 2>/dev/null && ! grep -q '^State:.Z' /proc/$pid/status; then echo "alive $pid"; fi
            done > b.saw
            echo checked >> b.saw
            """);
        var a = Sandbox.Submit("-n", "a", "noterm.py");
        var b = Sandbox.Submit("-n", "b", "check.sh");
        Sandbox.WaitForState(a, TimeSpan.FromSeconds(20), "RUNNING");
        Wait.For(() => File.Exists(Path.Combine(Sandbox.WorkDir, "a.pids")) && Pids("a.pids").Length == 2, "job a's two processes", 30);

        var clock = Stopwatch.StartNew();
        Sandbox.Ok("cancel", "-y", "--grace", "3", "a");
        Assert.That(clock.Elapsed, Is.GreaterThan(TimeSpan.FromSeconds(2.5)), "cancel returns once the job's processes are gone");
        Assert.That(Pids("a.pids").Where(Processes.Alive), Is.Empty, "SIGKILL after the grace period");

        var canceled = Sandbox.Job(a)!;
        Assert.That(canceled.State, Is.EqualTo("CANCELED"));
        Assert.That(canceled.ExitCode, Is.EqualTo(137), "the job's own status (killed by SIGKILL), not its sh wrapper's SIGTERM");
        Sandbox.WaitForEnd(b);
        Assert.That(File.ReadAllText(Path.Combine(Sandbox.WorkDir, "b.saw")), Is.EqualTo("checked\n"), "b started while a's processes ran");
        Assert.That(Sandbox.Job(b)!.StartedAt, Is.GreaterThanOrEqualTo(canceled.FinishedAt!.Value));
    }

    [Test]
    public void What_a_job_leaves_running_is_stopped_before_it_is_called_ended_even_after_setsid()
    {
        Sandbox.WriteFile("bg.sh", """
            (while :; do echo x; sleep 1; done) &
            echo $! > bg.pids
            setsid sh -c 'echo $$ >> bg.pids; exec sleep 300' &
            while [ "$(wc -l < bg.pids)" -lt 2 ]; do sleep 0.05; done
            echo started
            """);
        var number = Sandbox.Submit("bg.sh");
        var ended = Sandbox.WaitForEnd(number);
        var pids = Pids("bg.pids");

        Assert.That(ended.State, Is.EqualTo("FINISHED"));
        Assert.That(pids.Where(Processes.Alive), Is.Empty, "the background loop and the setsid escapee are gone when the job is ended");
        var log = File.ReadAllText(Path.Combine(Sandbox.Home, "logs", "agent.log"));
        Assert.That(log, Does.Contain($"Job {number}'s main process has exited; stopping the"));
        var stdout = Path.Combine(ended.OutputDirectory, "stdout");
        var size = new FileInfo(stdout).Length;
        Thread.Sleep(1500);
        Assert.That(new FileInfo(stdout).Length, Is.EqualTo(size), "nothing writes to its stdout any more");
        Assert.That(Sandbox.Run("cancel", "-y", number.ToString()).Stderr, Does.Contain("has already ended"));
    }

    [Test]
    public void A_job_that_ends_while_the_agent_is_down_keeps_its_real_end_time()
    {
        Sandbox.WriteFile("two.sh", "sleep 2; exit 3\n");
        var number = Sandbox.Submit("two.sh");
        var pid = Sandbox.WaitForState(number, TimeSpan.FromSeconds(20), "RUNNING").Pid;
        Sandbox.Ok("stop");
        Wait.For(() => !Processes.Alive(pid), "the job's end", 30);
        Thread.Sleep(4000);
        Sandbox.Start();

        var ended = Sandbox.WaitForEnd(number);
        Assert.That((ended.State, ended.ExitCode), Is.EqualTo(("FAILED", (int?)3)));
        var duration = ended.FinishedAt!.Value - ended.StartedAt!.Value;
        Assert.That(duration, Is.LessThan(TimeSpan.FromSeconds(3.5)), "a 2 s job, not the time until the agent came back");
        Assert.That(duration, Is.GreaterThanOrEqualTo(TimeSpan.FromSeconds(1.9)));
    }
}
