using System.Diagnostics;
using Meeshkan.Testing;

namespace Meeshkan.Slurm.Tests.Cluster;

/// <summary>What survives what with Slurm jobs: the agent killed (-9) and restarted, slurmctld stopped and started.</summary>
[NonParallelizable]
public sealed class SlurmFaultTests
{
    [Test]
    public void After_kill_9_and_a_restart_the_agent_reattaches_by_slurm_id_and_records_true_ends()
    {
        using var agent = SlurmJobTests.NewAgent();
        var quick = agent.Submit("--on", "slurm", "--name", "quick", "/bin/sh", "-c", "sleep 3; exit 4");
        var slow = agent.Submit("--on", "slurm", "--name", "slow", "/bin/sh", "-c", "sleep 30; echo done");
        WaitForList(agent, "quick", "RUNNING on ");
        WaitForList(agent, "slow", "RUNNING on ");

        agent.KillAgentIfAlive();
        Thread.Sleep(TimeSpan.FromSeconds(6)); // quick ends while no agent watches
        agent.Ok("start", "--listen", $"127.0.0.1:{SlurmJobTests.FreePort()}");

        var ended = agent.WaitForEnd(quick, 30);
        Assert.That((ended.State, ended.ExitCode), Is.EqualTo(("FAILED", (int?)4)), ended.FailureReason);
        Assert.That(agent.Job(slow)!.State, Is.EqualTo("RUNNING"), "re-attached, still running in Slurm");
        var finished = agent.WaitForEnd(slow, 90);
        Assert.That(finished.State, Is.EqualTo("FINISHED"));
        Assert.That(agent.Ok("logs", "slow"), Does.Contain("done"));
    }

    [Test]
    public void While_slurmctld_is_down_states_are_kept_submits_wait_and_both_catch_up_when_it_is_back()
    {
        using var agent = SlurmJobTests.NewAgent();
        var cluster = SlurmSuite.Cluster;
        var running = agent.Submit("--on", "slurm", "--name", "through", "/bin/sh", "-c", "sleep 10; exit 0");
        WaitForList(agent, "through", "RUNNING on ");
        cluster.StopController();
        try
        {
            var waiting = agent.Submit("--on", "slurm", "--name", "waiting", "/bin/sh", "-c", "echo handed over");
            Thread.Sleep(TimeSpan.FromSeconds(3));
            Assert.That(agent.Job(running)!.State, Is.EqualTo("RUNNING"), "kept while Slurm does not answer");
            Assert.That(agent.Job(waiting)!.State, Is.EqualTo("QUEUED"), "kept queued in Meeshkan, not failed");
            Assert.That(agent.Ok("list"), Does.Contain("waiting for Slurm to answer"));
            Thread.Sleep(TimeSpan.FromSeconds(10)); // the running job ends meanwhile, on its node
        }
        finally
        {
            cluster.StartController();
        }

        Assert.That(agent.WaitForEnd(running, 90).State, Is.EqualTo("FINISHED"));
        var handedOver = agent.WaitForEnd(agent.Jobs().Single(j => j.Name == "waiting").Number, 90);
        Assert.That(handedOver.State, Is.EqualTo("FINISHED"), handedOver.FailureReason);
        Assert.That(agent.Ok("logs", "waiting"), Does.Contain("handed over"));
    }

    private static void WaitForList(MeeshkanSandbox agent, string name, string text)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            if (agent.Ok("list").Split('\n').Any(l => l.Contains(name, StringComparison.Ordinal) && l.Contains(text, StringComparison.Ordinal)))
            {
                return;
            }
            Thread.Sleep(100);
        }
        throw new TimeoutException($"{name} never showed '{text}' in list:\n{agent.Ok("list")}");
    }
}
