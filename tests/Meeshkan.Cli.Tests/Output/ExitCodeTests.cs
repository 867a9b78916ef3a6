using System.Text.Json;
using Meeshkan.Testing;

namespace Meeshkan.Cli.Tests.Output;

/// <summary>
/// Every command's exit code is the README's: 0 success (help included), 1 error, 2 usage mistake, 3 no agent, 4 no
/// such job (issue 20, item 6); and `status --json` is JSON whether or not an agent runs (item 7).
/// </summary>
[TestFixture]
public sealed class ExitCodeTests : SandboxFixture
{
    private MeeshkanSandbox _idle = null!;

    /// <summary>The one with an agent.</summary>
    private MeeshkanSandbox Running => Sandbox;

    [OneTimeSetUp]
    public void MakeIdle() => _idle = new MeeshkanSandbox();

    protected override void Stopped() => _idle.Dispose();

    [TestCase(0, new string[0])]
    [TestCase(0, new[] { "--help" })]
    [TestCase(0, new[] { "help" })]
    [TestCase(0, new[] { "help", "submit" })]
    [TestCase(0, new[] { "submit", "--help" })]
    [TestCase(0, new[] { "list", "-h" })]
    [TestCase(2, new[] { "frobnicate" })]
    [TestCase(2, new[] { "list", "--bogus" })]
    [TestCase(2, new[] { "status", "--bogus" })]
    [TestCase(2, new[] { "setup", "--bogus" })]
    [TestCase(2, new[] { "logs" })]
    [TestCase(2, new[] { "report" })]
    [TestCase(2, new[] { "cancel" })]
    [TestCase(2, new[] { "notifications" })]
    [TestCase(2, new[] { "submit" })]
    [TestCase(2, new[] { "submit", "-r", "1.5", "true" })]
    [TestCase(2, new[] { "cancel", "--grace", "soon", "1" })]
    [TestCase(2, new[] { "--remote", "nowhere", "list" })]
    [TestCase(0, new[] { "stop" })]
    [TestCase(3, new[] { "list" })]
    [TestCase(3, new[] { "status" })]
    [TestCase(3, new[] { "submit", "true" })]
    [TestCase(3, new[] { "logs", "1" })]
    [TestCase(3, new[] { "report", "1" })]
    [TestCase(3, new[] { "cancel", "-y", "1" })]
    [TestCase(3, new[] { "notifications", "1" })]
    [TestCase(3, new[] { "clear", "-y" })]
    [TestCase(4, new[] { "remote", "remove", "nowhere" })]
    public void Without_an_agent(int expected, string[] args)
    {
        var result = _idle.Run(args);
        Assert.That(result.ExitCode, Is.EqualTo(expected), result.ToString());
        if (expected >= 2)
        {
            Assert.That((result.Stderr + result.Stdout).Trim(), Is.Not.Empty, "a line that says why");
            Assert.That(result.Stderr, Does.Not.Contain("Nullable").And.Not.Contain("Exception"));
        }
    }

    [TestCase(0, new[] { "list" })]
    [TestCase(0, new[] { "status" })]
    [TestCase(0, new[] { "start" })]
    [TestCase(1, new[] { "submit", "/no/such/program" })]
    [TestCase(4, new[] { "logs", "999" })]
    [TestCase(4, new[] { "report", "999" })]
    [TestCase(4, new[] { "cancel", "-y", "999" })]
    [TestCase(4, new[] { "notifications", "999" })]
    [TestCase(0, new[] { "clear", "-y" })]
    public void With_an_agent(int expected, string[] args)
    {
        var result = Running.Run(args);
        Assert.That(result.ExitCode, Is.EqualTo(expected), result.ToString());
    }

    [Test]
    public void Help_lists_the_clean_alias_and_the_script_form()
    {
        var help = _idle.Run("help");
        Assert.That(help.ExitCode, Is.Zero);
        Assert.That(help.Stdout, Does.Contain("meeshkan SCRIPT.py").And.Contain("clean"));
    }

    [Test]
    public void A_folder_given_as_the_job_is_called_a_folder()
    {
        Directory.CreateDirectory(Path.Combine(Running.WorkDir, "some_folder"));
        var result = Running.Run("submit", "some_folder");
        Assert.That(result.ExitCode, Is.EqualTo(2), result.ToString());
        Assert.That(result.Stderr, Does.Contain("some_folder is a folder"));
    }

    [Test]
    public void A_python_that_is_not_executable_is_called_so()
    {
        Running.WriteFile("x.py", "print(1)\n");
        var result = Running.Run("submit", "--python", "/etc/passwd", "x.py");
        Assert.That(result.ExitCode, Is.EqualTo(2), result.ToString());
        Assert.That(result.Stderr, Does.Contain("/etc/passwd exists but is not an executable program"));
    }

    [Test]
    public void Status_json_without_an_agent_is_json_that_says_not_running()
    {
        var result = _idle.Run("status", "--json");
        Assert.That(result.ExitCode, Is.EqualTo(3));
        using var doc = JsonDocument.Parse(result.Stdout);
        Assert.That(doc.RootElement.GetProperty("running").GetBoolean(), Is.False);
        Assert.That(doc.RootElement.GetProperty("dataFolder").GetString(), Is.EqualTo(_idle.Home));
    }

    [Test]
    public void Status_json_gives_numbers_as_numbers()
    {
        using var doc = JsonDocument.Parse(Running.Ok("status", "--json"));
        var root = doc.RootElement;
        Assert.That(root.GetProperty("running").GetBoolean(), Is.True);
        Assert.That(root.GetProperty("pid").ValueKind, Is.EqualTo(JsonValueKind.Number));
        Assert.That(root.GetProperty("uptimeSeconds").ValueKind, Is.EqualTo(JsonValueKind.Number));
        foreach (var count in new[] { "queued", "running", "finished", "failed", "canceled" })
        {
            Assert.That(root.GetProperty("jobs").GetProperty(count).ValueKind, Is.EqualTo(JsonValueKind.Number), count);
        }
        Assert.That(root.GetProperty("version").GetString(), Is.Not.Empty);
        Assert.That(root.GetProperty("socketPath").GetString(), Is.EqualTo(Running.SocketPath));
    }
}
