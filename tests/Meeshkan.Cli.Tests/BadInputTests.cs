using Meeshkan.Testing;

namespace Meeshkan.Cli.Tests;

/// <summary>Bad input: a one-line error that says what to do, a non-zero exit, and nothing queued.</summary>
[TestFixture]
public sealed class BadInputTests : SandboxFixture
{
    [TestCase(new[] { "submit", "missing.py" }, "script not found")]
    [TestCase(new[] { "submit", "missing.sh" }, "script not found")]
    [TestCase(new[] { "submit", "no-such-command-xyz" }, "command not found")]
    [TestCase(new[] { "submit", "./not-here" }, "no such executable")]
    [TestCase(new[] { "submit", "" }, "nothing to run")]
    [TestCase(new[] { "submit", "--python", "/no/python", "x.py" }, "not found")]
    [TestCase(new[] { "submit", "-r", "-5", "true" }, "")]
    [TestCase(new[] { "submit", "-r", "0", "true" }, "positive")]
    [TestCase(new[] { "submit", "-r", "ten", "true" }, "")]
    [TestCase(new[] { "submit", "-n", "bad\nname", "true" }, "control characters")]
    [TestCase(new[] { "submit", "-n", "   ", "true" }, "blank")]
    [TestCase(new[] { "frobnicate" }, "")]
    [TestCase(new[] { "list", "--no-such-option" }, "")]
    [TestCase(new[] { "logs" }, "")]
    [TestCase(new[] { "logs", "999" }, "no job matches")]
    [TestCase(new[] { "cancel", "-y", "999" }, "no job matches")]
    [TestCase(new[] { "report", "*nothing*" }, "no job matches")]
    public void Is_refused_with_a_clear_error_and_nothing_is_queued(string[] args, string message)
    {
        Sandbox.WriteFile("x.py", "print(1)\n");
        var before = Sandbox.Jobs().Count;
        var result = Sandbox.Run(args);
        Assert.That(result.ExitCode, Is.Not.Zero, result.ToString());
        Assert.That(result.Stderr.Trim(), Is.Not.Empty, "says what went wrong");
        Assert.That(result.Stderr, Does.Contain(message));
        Assert.That(result.Stderr, Does.Not.Contain("   at "), "no stack trace");
        Assert.That(Sandbox.Jobs().Count, Is.EqualTo(before));
    }

    [Test]
    public void A_huge_name_is_refused()
    {
        var result = Sandbox.Run("submit", "-n", new string('x', 5000), "true");
        Assert.That(result.ExitCode, Is.Not.Zero);
        Assert.That(result.Stderr, Does.Contain("at most 256"));
    }

    [Test]
    public void Canceling_an_ended_job_says_it_has_ended()
    {
        var number = Sandbox.Submit("true");
        Sandbox.WaitForEnd(number);
        var result = Sandbox.Run("cancel", "-y", number.ToString());
        Assert.That(result.ExitCode, Is.Not.Zero);
        Assert.That(result.Stderr, Does.Contain("already ended"));
    }
}
