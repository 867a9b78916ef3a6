using Meeshkan.Testing;

namespace Meeshkan.Cli.Tests.Faults;

/// <summary>Deleting agent.sock does not leave an agent nothing can reach or stop (issue 14.8).</summary>
[TestFixture]
public sealed class SocketGoneTests
{
    [Test]
    public void A_deleted_socket_is_made_again_and_jobs_and_commands_go_on()
    {
        using var sandbox = new MeeshkanSandbox();
        sandbox.Start();
        var pid = sandbox.AgentPid ?? throw new AssertionException("no agent pid");
        var release = Path.Combine(sandbox.WorkDir, "release");
        sandbox.WriteFile("hold.sh", $"while [ ! -f {release} ]; do sleep 0.05; done; echo done\n");
        var running = sandbox.Submit("hold.sh");
        sandbox.WaitForState(running, TimeSpan.FromSeconds(30), "RUNNING");
        FaultCounts.Fault();
        File.Delete(sandbox.SocketPath);

        Wait.For(() => File.Exists(sandbox.SocketPath), "the agent makes its socket again", 10);
        Assert.That(sandbox.Ok("status"), Does.Contain("is running").And.Contain(pid.ToString()));
        File.WriteAllText(release, "");
        Assert.That(sandbox.WaitForEnd(running).State, Is.EqualTo("FINISHED"), "the job went on");
        var next = sandbox.Submit("echo", "after");
        Assert.That(sandbox.WaitForEnd(next).State, Is.EqualTo("FINISHED"));
        Assert.That(sandbox.AgentPid, Is.EqualTo(pid), "the same agent");
        FaultCounts.Checked(2);
    }

    [Test]
    public void With_its_socket_gone_for_good_status_and_start_name_the_agent_and_stop_stops_it()
    {
        using var sandbox = new MeeshkanSandbox();
        sandbox.Start();
        var pid = sandbox.AgentPid ?? throw new AssertionException("no agent pid");
        FaultCounts.Fault();
        // Its second name too (Hosting/SocketKeeper): nothing is left to make the socket again from.
        File.Delete(Path.Combine(sandbox.Home, ".agent.sock.kept"));
        File.Delete(sandbox.SocketPath);

        var status = sandbox.Run("status");
        Assert.That(status.ExitCode, Is.Not.Zero, status.ToString());
        Assert.That(status.Stderr, Does.Contain($"running (pid {pid})").And.Contain("socket").And.Contain("meeshkan stop"));
        FaultKit.AssertOneLine(status.Stderr, "status");
        var start = sandbox.Run("start");
        Assert.That(start.ExitCode, Is.Not.Zero, start.ToString());
        Assert.That(start.Stderr, Does.Contain($"pid {pid}"));

        var stop = sandbox.Run("stop");
        Assert.That(stop.ExitCode, Is.Zero, stop.ToString());
        Assert.That(stop.Stdout, Does.Contain("stopped"));
        Assert.That(FaultKit.Alive(pid), Is.False, "the agent is gone");
        sandbox.Start();
        Assert.That(sandbox.Ok("status"), Does.Contain("is running"));
        FaultCounts.Checked(3);
    }
}
