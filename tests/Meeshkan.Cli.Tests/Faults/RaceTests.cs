using System.Diagnostics;
using Meeshkan.Testing;

namespace Meeshkan.Cli.Tests.Faults;

/// <summary>Commands that collide: whichever wins, the end state is one clear state.</summary>
[TestFixture]
public sealed class RaceTests
{
    [Test]
    public void Stop_during_start_leaves_either_no_agent_or_one_that_answers()
    {
        using var sandbox = new MeeshkanSandbox();
        for (var round = 0; round < 3; round++)
        {
            var start = Task.Run(() => sandbox.RunIn(sandbox.WorkDir, null, TimeSpan.FromSeconds(120), "start"));
            Thread.Sleep(150 * round);
            var stop = sandbox.RunIn(sandbox.WorkDir, null, TimeSpan.FromSeconds(120), "stop");
            FaultCounts.Fault();
            var started = start.Result;
            Assert.That(stop.ExitCode, Is.Zero, stop.ToString());
            Assert.That(started.Stderr, Does.Not.Contain("   at "), started.ToString());

            // Whatever happened, the folder is usable: one agent after the next start, and it runs jobs.
            sandbox.Start();
            var status = sandbox.Ok("status");
            var pid = sandbox.AgentPid;
            Assert.That(pid, Is.Not.Null);
            Assert.That(AgentProcesses(sandbox), Is.EqualTo(new[] { pid!.Value }), "exactly one agent for the folder");
            var job = sandbox.Submit("echo", $"round {round}");
            Assert.That(sandbox.WaitForEnd(job).State, Is.EqualTo("FINISHED"), status);
            sandbox.Ok("stop");
            FaultKit.WaitFor(() => AgentProcesses(sandbox).Count == 0, "the agent exits");
            FaultCounts.Checked(2);
        }
    }

    [Test]
    public void Cancel_at_the_moment_a_job_ends_gives_one_final_state()
    {
        using var sandbox = new MeeshkanSandbox();
        sandbox.Start();
        var outcomes = new List<string>();
        for (var round = 0; round < 6; round++)
        {
            var number = sandbox.Submit("sleep", "0.5");
            sandbox.WaitForState(number, TimeSpan.FromSeconds(60), "RUNNING", "FINISHED");
            Thread.Sleep(300 + 60 * round); // around the moment the job exits
            var cancel = sandbox.Run("cancel", "-y", "--grace", "1", number.ToString());
            FaultCounts.Fault();
            var ended = sandbox.WaitForEnd(number, 60);
            Assert.That(ended.State, Is.AnyOf("CANCELED", "FINISHED"));
            if (cancel.ExitCode == 0)
            {
                Assert.That(cancel.Stdout, Does.Contain("canceled"));
                Assert.That(ended.State, Is.EqualTo("CANCELED"), "the CLI said canceled: " + cancel);
            }
            else
            {
                Assert.That(cancel.Stderr, Does.Contain("already ended"), cancel.ToString());
                Assert.That(ended.State, Is.EqualTo("FINISHED"));
            }
            // Stays put: never canceled after being finished, or the other way round.
            Thread.Sleep(300);
            Assert.That(FaultKit.Job(sandbox, number).State, Is.EqualTo(ended.State), "the state does not change again");
            outcomes.Add(ended.State);
            FaultCounts.Checked();
        }
        var next = sandbox.Submit("echo", "next");
        Assert.That(sandbox.WaitForEnd(next).State, Is.EqualTo("FINISHED"), "the queue is not stuck");
        TestContext.Progress.WriteLine("cancel at the end: " + string.Join(", ", outcomes));
    }

    private static List<int> AgentProcesses(MeeshkanSandbox sandbox)
    {
        var pids = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
            {
                continue;
            }
            try
            {
                var cmdline = File.ReadAllText(Path.Combine(dir, "cmdline")).Split('\0');
                var environ = File.ReadAllText(Path.Combine(dir, "environ")).Split('\0');
                if (cmdline.Length >= 2 && cmdline[0].EndsWith("meeshkan", StringComparison.Ordinal) && cmdline[1] == "agent"
                    && environ.Contains($"MEESHKAN_HOME={sandbox.Home}") && !File.ReadAllText(Path.Combine(dir, "stat")).Contains(") Z "))
                {
                    pids.Add(pid);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }
        return pids;
    }
}
