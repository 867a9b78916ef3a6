using System.Text.Json;
using Meeshkan.Testing;

namespace Meeshkan.Cli.Tests;

/// <summary>`meeshkan submit --from FILE`: one job per line, in one call; all queued or none.</summary>
[TestFixture]
public sealed class SubmitFromFileTests() : SandboxFixture(AgentPer.Test)
{
    [Test]
    public void Each_line_of_the_file_is_one_job_with_the_other_options_in_order_comments_skipped()
    {
        Sandbox.Ok("pause");
        Sandbox.WriteFile("jobs.txt", "echo 'a b' c\n# a comment\n\n  sh -c \"exit 3\"\ntrue\n");
        var output = Sandbox.Ok("submit", "--priority", "5", "--timeout", "1h", "--from", "jobs.txt");
        Assert.That(output.Split('\n', StringSplitOptions.RemoveEmptyEntries), Has.Length.EqualTo(3).And.All.StartWith("Job "));
        var jobs = Jobs();
        Assert.That(jobs.Select(j => string.Join('|', j.GetProperty("command").EnumerateArray().Select(a => a.GetString()))),
            Is.EqualTo(new[] { "/usr/bin/echo|a b|c", "/usr/bin/sh|-c|exit 3", "/usr/bin/true" }));
        Assert.That(jobs.Select(j => j.GetProperty("priority").GetInt32()), Is.All.EqualTo(5));
        Assert.That(jobs.Select(j => j.GetProperty("timeoutSeconds").GetString()), Is.All.EqualTo("3600"));
        Sandbox.Ok("resume");
        var ends = jobs.Select(j => Sandbox.WaitForEnd(long.Parse(j.GetProperty("number").GetString()!, System.Globalization.CultureInfo.InvariantCulture))).ToList();
        Assert.That(ends.Select(e => e.ExitCode), Is.EqualTo(new int?[] { 0, 3, 0 }));
        Assert.That(File.ReadAllText(Path.Combine(ends[0].OutputDirectory, "stdout")), Is.EqualTo("a b c\n"));
    }

    [Test]
    public void Standard_input_gives_the_commands_with_a_dash()
    {
        var result = Sandbox.RunWithInput("true\ntrue\n", "submit", "--from", "-");
        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        Assert.That(Jobs(), Has.Count.EqualTo(2));
    }

    [TestCase("echo \"unclosed\n", "line 1: unclosed")]
    [TestCase("# nothing\n\n", "holds no command")]
    [TestCase("true\nno_such_command_here\n", "no_such_command_here")]
    public void A_bad_file_is_one_line_and_nothing_is_queued(string content, string said)
    {
        Sandbox.WriteFile("bad.txt", content);
        var result = Sandbox.Run("submit", "--from", "bad.txt");
        Assert.That(result.ExitCode, Is.Not.Zero);
        Assert.That(result.Stderr.Trim().Split('\n'), Has.Length.EqualTo(1), result.ToString());
        Assert.That(result.Stderr, Does.Contain(said));
        Assert.That(Jobs(), Is.Empty, "nothing queued");
    }

    [Test]
    public void A_command_and_a_file_at_once_or_a_missing_file_are_usage_mistakes()
    {
        Sandbox.WriteFile("jobs.txt", "true\n");
        foreach (var args in new[] { new[] { "submit", "--from", "jobs.txt", "true" }, ["submit", "--from", "no-such-file.txt"] })
        {
            var result = Sandbox.Run(args);
            Assert.That(result.ExitCode, Is.EqualTo(2), result.ToString());
            Assert.That(result.Stderr.Trim().Split('\n'), Has.Length.EqualTo(1), result.ToString());
        }
        Assert.That(Jobs(), Is.Empty);
    }

    private List<JsonElement> Jobs()
    {
        using var doc = JsonDocument.Parse(Sandbox.Ok("list", "--json"));
        return doc.RootElement.TryGetProperty("jobs", out var jobs)
            ? jobs.EnumerateArray().Select(j => j.Clone()).OrderBy(j => long.Parse(j.GetProperty("number").GetString()!, System.Globalization.CultureInfo.InvariantCulture)).ToList()
            : [];
    }
}
