using Meeshkan.Testing;

namespace Meeshkan.Cli.Tests.Output;

/// <summary>`remote token` prints the address the running agent really listens on (issue 20, item 8).</summary>
[TestFixture]
public sealed class RemoteTokenTests
{
    [Test]
    public void Token_prints_the_running_agents_real_address_even_when_started_with_listen()
    {
        using var sandbox = new MeeshkanSandbox();
        var port = Ports.Free();
        sandbox.Ok("start", "--listen", $"127.0.0.1:{port}");
        var text = sandbox.Ok("remote", "token");
        Assert.That(text, Does.Contain($"meeshkan remote add NAME https://127.0.0.1:{port} --token "));
        Assert.That(text, Does.Not.Contain("PORT").And.Not.Contain("does not listen"));
    }

    [Test]
    public void Token_without_a_listener_says_how_to_get_one()
    {
        using var sandbox = new MeeshkanSandbox();
        sandbox.Start();
        var text = sandbox.Ok("remote", "token");
        Assert.That(text, Does.Contain("does not listen for remote CLIs yet").And.Contain("meeshkan start --listen"));
        Assert.That(text, Does.Not.Contain(":PORT"));
    }
}
