using Meeshkan.Testing;

namespace Meeshkan.Cli.Tests.Output;

/// <summary>Issue 20, item 4: which job a name means (README, "Naming a job").</summary>
[TestFixture]
public sealed class IdentifierTests : SandboxFixture
{
    [Test, Order(1)]
    public void An_exact_name_wins_over_the_same_text_read_as_a_pattern()
    {
        var brackets = Sandbox.Submit("-n", "[abc]", "echo", "brackets");
        var s1 = Sandbox.Submit("-n", "s1-1", "echo", "s1-1");
        var star = Sandbox.Submit("-n", "s1*", "echo", "star");
        Sandbox.WaitForEnd(star);
        Assert.That(Sandbox.Ok("logs", "[abc]"), Is.EqualTo("brackets\n"));
        Assert.That(Sandbox.Ok("logs", "s1*"), Is.EqualTo("star\n"), "the job literally named s1*");
        Assert.That(Sandbox.Ok("report", "s1*"), Does.StartWith($"Job {star} (s1*)"));
        Assert.That(Sandbox.Ok("logs", "s1-"), Is.EqualTo("s1-1\n"), "a prefix still works when nothing is named so");
        Assert.That(brackets, Is.LessThan(s1));
    }

    [Test, Order(2)]
    public void Reading_a_name_submitted_twice_takes_the_latest_and_says_so()
    {
        var first = Sandbox.Submit("-n", "train", "echo", "first run");
        var second = Sandbox.Submit("-n", "train", "echo", "second run");
        Sandbox.WaitForEnd(second);
        var logs = Sandbox.Run("logs", "train");
        Assert.That(logs.ExitCode, Is.Zero, logs.ToString());
        Assert.That(logs.Stdout, Is.EqualTo("second run\n"));
        Assert.That(logs.Stderr, Does.Contain($"2 jobs match 'train'; showing the latest, job {second}").And.Contain($"The others: {first}"));
        Assert.That(Sandbox.Run("report", "train").Stderr, Does.Contain("showing the latest"));
        Assert.That(Sandbox.Ok("logs", first.ToString()), Is.EqualTo("first run\n"), "a number reaches the older one");
    }

    [Test, Order(3)]
    public void Cancel_considers_only_the_jobs_it_can_change()
    {
        var ended = Sandbox.Submit("-n", "resnet-a", "true");
        Sandbox.WaitForEnd(ended);
        var running = Sandbox.Submit("-n", "resnet-b", "sleep", "60");
        Sandbox.WaitForState(running, TimeSpan.FromSeconds(30), "RUNNING");
        var result = Sandbox.Run("cancel", "-y", "--grace", "1", "resnet*");
        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        Assert.That(result.Stdout, Does.Contain($"Job {running} (resnet-b) canceled"));
        Assert.That(Sandbox.Job(ended)!.State, Is.EqualTo("FINISHED"));
    }

    [Test, Order(4)]
    public void Cancel_lists_several_changeable_matches_and_cancels_none()
    {
        var blocker = Sandbox.Submit("-n", "blocker", "sleep", "60");
        var one = Sandbox.Submit("-n", "dup", "sleep", "60");
        var two = Sandbox.Submit("-n", "dup", "sleep", "60");
        var result = Sandbox.Run("cancel", "-y", "dup");
        Assert.That(result.ExitCode, Is.EqualTo(2), result.ToString());
        Assert.That(result.Stderr, Does.Contain("matches 2 jobs that can be canceled; nothing canceled"));
        Assert.That(result.Stderr, Does.Match($@"(?m)^{one} +dup +QUEUED").And.Match($@"(?m)^{two} +dup +QUEUED"));
        Assert.That(new[] { one, two }.Select(n => Sandbox.Job(n)!.State), Has.None.EqualTo("CANCELED"));
        Assert.That(Sandbox.Run("cancel", "-y", "--grace", "1", blocker.ToString()).ExitCode, Is.Zero);
    }
}
