using Meeshkan.Testing;

namespace Meeshkan.Cli.Tests.Output;

/// <summary>Issue 20, item 5: a broken config or database is told in the user's words, and `setup` repairs the config.</summary>
[TestFixture]
public sealed class BadConfigTests
{
    [Test]
    public void A_value_of_the_wrong_type_is_named_by_file_line_and_setting()
    {
        using var sandbox = new MeeshkanSandbox();
        Directory.CreateDirectory(sandbox.Home);
        var config = Path.Combine(sandbox.Home, "config");
        File.WriteAllText(config, "{\n  \"python\": \"/usr/bin/python3\",\n  \"notifications\": { \"slack\": 5 }\n}\n");
        var start = sandbox.Run("start");
        Assert.That(start.ExitCode, Is.EqualTo(1), start.ToString());
        Assert.That(start.Stderr, Does.Contain($"{config}, line 3").And.Contain("\"notifications.slack\""));
        Assert.That(start.Stderr, Does.Not.Contain("Meeshkan.Agent.Config").And.Not.Contain("Path: $").And.Not.Contain("DeserializeUnable"));
    }

    [Test]
    public void Setup_repairs_a_broken_config_and_keeps_the_broken_file()
    {
        using var sandbox = new MeeshkanSandbox();
        Directory.CreateDirectory(sandbox.Home);
        var config = Path.Combine(sandbox.Home, "config");
        File.WriteAllText(config, "{ \"python\": \"/usr/bin/python3\", oops }");
        var setup = sandbox.Run("setup", "--python", "/usr/bin/python3");
        Assert.That(setup.ExitCode, Is.Zero, setup.ToString());
        Assert.That(setup.Stderr, Does.Contain("line 1").And.Contain("the broken one is kept as"));
        Assert.That(Directory.GetFiles(sandbox.Home, "config.broken-*"), Has.Length.EqualTo(1));
        Assert.That(File.ReadAllText(config), Does.Contain("/usr/bin/python3"));
        sandbox.Start();
        Assert.That(sandbox.Ok("status"), Does.Contain("is running"));
    }

    [Test]
    public void An_unreadable_database_is_called_a_permission_problem()
    {
        if (Environment.UserName == "root")
        {
            Assert.Ignore("root reads a mode 000 file: run as another user to see the refusal");
        }
        using var sandbox = new MeeshkanSandbox();
        sandbox.Start();
        sandbox.Ok("stop");
        var database = Directory.GetFiles(sandbox.Home, "*.db").Single();
        File.SetUnixFileMode(database, UnixFileMode.None);
        var start = sandbox.Run("start");
        File.SetUnixFileMode(database, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        Assert.That(start.ExitCode, Is.EqualTo(1), start.ToString());
        Assert.That(start.Stderr, Does.Contain("permission denied on the database").And.Contain("chmod 600"));
    }
}
