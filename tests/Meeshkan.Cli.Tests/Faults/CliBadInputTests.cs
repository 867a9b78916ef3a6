using System.Text;
using Meeshkan.Testing;

namespace Meeshkan.Cli.Tests.Faults;

/// <summary>
/// CLI input beyond BadInputTests: bytes that are not UTF-8, control characters, and identifiers that could mean more
/// than one job. Refusals are one line with a non-zero exit; what is accepted reaches the job unchanged.
/// </summary>
[TestFixture]
public sealed class CliBadInputTests : SandboxFixture
{
    // printf formats: \377 and \300\200 are never valid UTF-8.
    [TestCase("submit -n \"$(printf 'bad\\377name')\" true")]
    [TestCase("submit echo \"$(printf 'caf\\351')\"")]
    [TestCase("submit true \"$(printf '\\300\\200')\"")]
    [TestCase("logs \"$(printf '\\377')\"")]
    [TestCase("\"$(printf 'x\\377.py')\"")]
    public void Arguments_that_are_not_UTF_8_are_refused_and_nothing_is_queued(string arguments)
    {
        var before = Sandbox.Jobs().Count;
        var result = FaultKit.Shell(Sandbox, "\"$MK\" " + arguments, 120);
        FaultCounts.BadInput();
        var stderr = Encoding.UTF8.GetString(result.Stderr);
        Assert.That(result.ExitCode, Is.Not.Zero, stderr);
        Assert.That(stderr, Does.Contain("UTF-8"));
        FaultKit.AssertOneLine(stderr, arguments);
        Assert.That(Sandbox.Jobs(), Has.Count.EqualTo(before), "nothing queued");
        FaultCounts.Checked();
    }

    [TestCase("tab\tname")]
    [TestCase("esc\u001b[31mred")]
    [TestCase("del\u007f")]
    [TestCase("bell\u0007")]
    [TestCase("c1\u009bcontrol")]
    public void Control_characters_in_names_are_refused(string name)
    {
        var before = Sandbox.Jobs().Count;
        var result = Sandbox.Run("submit", "-n", name, "true");
        FaultCounts.BadInput();
        Assert.That(result.ExitCode, Is.EqualTo(1), result.ToString());
        Assert.That(result.Stderr, Does.Contain("control characters"));
        FaultKit.AssertOneLine(result.Stderr, name);
        Assert.That(Sandbox.Jobs(), Has.Count.EqualTo(before));
        FaultCounts.Checked();
    }

    [Test]
    public void Control_characters_in_an_identifier_are_not_echoed_raw()
    {
        var result = Sandbox.Run("logs", "\u001b[2J\u001b]0;pwned\u0007");
        FaultCounts.BadInput();
        Assert.That(result.ExitCode, Is.EqualTo(4), result.ToString());
        Assert.That(result.Stderr, Does.Not.Contain("\u001b").And.Contain("\\x1b"), "escaped, so the terminal is not driven by it");
        FaultKit.AssertOneLine(result.Stderr, "logs");
        FaultCounts.Checked();
    }

    [Test]
    public void Control_characters_and_unicode_in_job_arguments_reach_the_job_unchanged()
    {
        string[] args = ["tab\there", "esc\u001b[0m", "new\nline", "ünïcødé ✓", "-n", "--lr=0.1", " "];
        var number = Sandbox.Submit(["/usr/bin/printf", "[%s]", .. args]);
        Assert.That(Sandbox.WaitForEnd(number).State, Is.EqualTo("FINISHED"));
        var logs = FaultKit.Shell(Sandbox, $"\"$MK\" logs {number}");
        var expected = Encoding.UTF8.GetBytes(string.Concat(args.Select(a => $"[{a}]")));
        CrashRecoveryTests.CompareBytes(logs.Stdout, expected, "the job's argv, printed back");
        FaultCounts.BadInput(args.Length);
    }

    [Test]
    public void Ambiguous_identifiers_resolve_by_the_documented_order()
    {
        // A job whose name is another job's number, and two jobs sharing a prefix.
        var named = Sandbox.Submit("-n", "train-a", "true");
        var prefixed = Sandbox.Submit("-n", "train-b", "true");
        var byNumber = Sandbox.Submit("-n", named.ToString(System.Globalization.CultureInfo.InvariantCulture) + "x", "true");
        var numberName = Sandbox.Submit("-n", prefixed.ToString(System.Globalization.CultureInfo.InvariantCulture), "true");
        foreach (var job in new[] { named, prefixed, byNumber, numberName })
        {
            Sandbox.WaitForEnd(job);
        }
        FaultCounts.BadInput(4);
        // A number is a number before it is a name.
        Assert.That(ReportHeader(prefixed.ToString(System.Globalization.CultureInfo.InvariantCulture)), Does.StartWith($"Job {prefixed} (train-b)"));
        // A shared prefix: the oldest match.
        Assert.That(ReportHeader("train"), Does.StartWith($"Job {named} (train-a)"));
        Assert.That(ReportHeader("train-*"), Does.StartWith($"Job {named} (train-a)"));
        Assert.That(ReportHeader("train-b"), Does.StartWith($"Job {prefixed} (train-b)"));
        // A name given exactly wins over a longer name it prefixes.
        Assert.That(ReportHeader(named + "x"), Does.StartWith($"Job {byNumber} "));
        // Glob characters are taken as globs, brackets included, and a bad pattern is no match, not an error.
        var bad = Sandbox.Run("report", "[");
        Assert.That(bad.ExitCode, Is.EqualTo(4), bad.ToString());
        FaultKit.AssertOneLine(bad.Stderr, "report [");
        FaultCounts.Checked(6);
    }

    private string ReportHeader(string identifier) => Sandbox.Ok("report", identifier);
}
