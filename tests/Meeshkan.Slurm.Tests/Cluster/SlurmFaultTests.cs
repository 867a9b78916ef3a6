using System.Diagnostics;
using System.Text.RegularExpressions;
using Meeshkan.Testing;

namespace Meeshkan.Slurm.Tests.Cluster;

/// <summary>
/// What survives what with Slurm jobs: the agent killed (-9) and restarted, slurmctld stopped and started. Each job
/// waits for a file the test creates, so that it ends exactly when the test says, however loaded the machine is.
/// </summary>
[NonParallelizable]
public sealed class SlurmFaultTests
{
    [Test]
    public void After_kill_9_and_a_restart_the_agent_reattaches_by_slurm_id_and_records_true_ends()
    {
        using var agent = SlurmJobTests.NewAgent();
        var quickGate = Path.Combine(agent.WorkDir, "quick-go");
        var slowGate = Path.Combine(agent.WorkDir, "slow-go");
        var quick = agent.Submit("--on", "slurm", "--name", "quick", "/bin/sh", "-c", $"{WaitFor(quickGate)}; exit 4");
        var slow = agent.Submit("--on", "slurm", "--name", "slow", "/bin/sh", "-c", $"{WaitFor(slowGate)}; echo done");
        var quickId = WaitForList(agent, "quick", "RUNNING on ");
        WaitForList(agent, "slow", "RUNNING on ");

        agent.KillAgentIfAlive();
        // quick ends while no agent watches: Slurm has it FAILED before the agent starts again.
        File.WriteAllText(quickGate, "");
        WaitForSlurmState(quickId, "FAILED");
        agent.StartListening();

        var ended = agent.WaitForEnd(quick, 60);
        Assert.That((ended.State, ended.ExitCode), Is.EqualTo(("FAILED", (int?)4)), ended.FailureReason);
        Assert.That(agent.Job(slow)!.State, Is.EqualTo("RUNNING"), "re-attached, still running in Slurm");
        File.WriteAllText(slowGate, "");
        var finished = agent.WaitForEnd(slow, 90);
        Assert.That(finished.State, Is.EqualTo("FINISHED"), finished.FailureReason);
        Assert.That(agent.Ok("logs", "slow"), Does.Contain("done"));
    }

    [Test]
    public void While_slurmctld_is_down_states_are_kept_submits_wait_and_both_catch_up_when_it_is_back()
    {
        using var agent = SlurmJobTests.NewAgent();
        var cluster = SlurmSuite.Cluster;
        var gate = Path.Combine(agent.WorkDir, "through-go");
        var running = agent.Submit("--on", "slurm", "--name", "through", "/bin/sh", "-c", $"{WaitFor(gate)}; exit 0");
        WaitForList(agent, "through", "RUNNING on ");
        var folder = agent.Job(running)!.OutputDirectory;
        cluster.StopController();
        try
        {
            var waiting = agent.Submit("--on", "slurm", "--name", "waiting", "/bin/sh", "-c", "echo handed over");
            WaitForList(agent, "waiting", "waiting for Slurm to answer");
            Assert.That(agent.Job(waiting)!.State, Is.EqualTo("QUEUED"), "kept queued in Meeshkan, not failed");
            // The running job ends meanwhile, on its node; the agent cannot hear it and keeps its last state.
            File.WriteAllText(gate, "");
            Wait(() => File.Exists(Path.Combine(folder, "exit_code")), () => "the job's script to record its exit status");
            Assert.That(agent.Job(running)!.State, Is.EqualTo("RUNNING"), "kept while Slurm does not answer");
        }
        finally
        {
            cluster.StartController();
        }

        var through = agent.WaitForEnd(running, 90);
        Assert.That(through.State, Is.EqualTo("FINISHED"), through.FailureReason);
        var handedOver = agent.WaitForEnd(agent.Jobs().Single(j => j.Name == "waiting").Number, 90);
        Assert.That(handedOver.State, Is.EqualTo("FINISHED"), handedOver.FailureReason);
        Assert.That(agent.Ok("logs", "waiting"), Does.Contain("handed over"));
    }

    /// <summary>A shell loop that returns once the file exists.</summary>
    private static string WaitFor(string file) => $"while [ ! -e '{file}' ]; do sleep 0.1; done";

    /// <summary>Waits until the job's line in `meeshkan list` shows the text; returns its Slurm job id when the line has one.</summary>
    private static string WaitForList(MeeshkanSandbox agent, string name, string text)
    {
        string? line = null;
        Wait(() =>
        {
            line = agent.Ok("list").Split('\n').FirstOrDefault(l => l.Contains($" {name} ", StringComparison.Ordinal) && l.Contains(text, StringComparison.Ordinal));
            return line is not null;
        }, () => $"{name} to show '{text}' in list:\n{agent.Run("list")}\n{AgentLog(agent)}");
        return Regex.Match(line!, "Slurm ([0-9]+)").Groups[1].Value;
    }

    private static void WaitForSlurmState(string slurmId, string state) =>
        Wait(() => SlurmSuite.Cluster.Client("squeue", "-h", "-t", "all", "-j", slurmId, "-o", "%T").Stdout.Trim() == state,
            () => $"Slurm job {slurmId} to be {state}");

    private static void Wait(Func<bool> done, Func<string> what)
    {
        var clock = Stopwatch.StartNew();
        while (!done())
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(120))
            {
                throw new TimeoutException($"waited 120 s for {what()}");
            }
            Thread.Sleep(100);
        }
    }

    private static string AgentLog(MeeshkanSandbox agent)
    {
        var log = Path.Combine(agent.Home, "agent.log");
        return File.Exists(log) ? string.Join('\n', File.ReadLines(log).TakeLast(20)) : "(no agent.log)";
    }
}
