using Meeshkan.Testing;

namespace Meeshkan.Cli.Tests.Faults;

/// <summary>Deleting agent.sock does not leave an agent nothing can reach or stop (issue 14.8, the CLI's part).</summary>
[TestFixture]
public sealed class SocketGoneTests
{
    [Test]
    public void With_its_socket_deleted_status_and_start_name_the_agent_and_stop_stops_it()
    {
        using var sandbox = new MeeshkanSandbox();
        sandbox.Start();
        var pid = sandbox.AgentPid ?? throw new AssertionException("no agent pid");
        FaultCounts.Fault();
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
