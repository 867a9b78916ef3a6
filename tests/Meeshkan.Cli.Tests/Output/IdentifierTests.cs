using Meeshkan.Testing;

namespace Meeshkan.Cli.Tests.Output;

/// <summary>Issue 20, item 4: which job a name means (README, "Naming a job").</summary>
[TestFixture]
public sealed class IdentifierTests
{
    private MeeshkanSandbox _sandbox = null!;

    [OneTimeSetUp]
    public void StartAgent()
    {
        _sandbox = new MeeshkanSandbox();
        _sandbox.Start();
    }

    [OneTimeTearDown]
    public void StopAgent() => _sandbox.Dispose();

    [Test, Order(1)]
    public void An_exact_name_wins_over_the_same_text_read_as_a_pattern()
    {
        var brackets = _sandbox.Submit("-n", "[abc]", "echo", "brackets");
        var s1 = _sandbox.Submit("-n", "s1-1", "echo", "s1-1");
        var star = _sandbox.Submit("-n", "s1*", "echo", "star");
        _sandbox.WaitForEnd(star);
        Assert.That(_sandbox.Ok("logs", "[abc]"), Is.EqualTo("brackets\n"));
        Assert.That(_sandbox.Ok("logs", "s1*"), Is.EqualTo("star\n"), "the job literally named s1*");
        Assert.That(_sandbox.Ok("report", "s1*"), Does.StartWith($"Job {star} (s1*)"));
        Assert.That(_sandbox.Ok("logs", "s1-"), Is.EqualTo("s1-1\n"), "a prefix still works when nothing is named so");
        Assert.That(brackets, Is.LessThan(s1));
    }

    [Test, Order(2)]
    public void Reading_a_name_submitted_twice_takes_the_latest_and_says_so()
    {
        var first = _sandbox.Submit("-n", "train", "echo", "first run");
        var second = _sandbox.Submit("-n", "train", "echo", "second run");
        _sandbox.WaitForEnd(second);
        var logs = _sandbox.Run("logs", "train");
        Assert.That(logs.ExitCode, Is.Zero, logs.ToString());
        Assert.That(logs.Stdout, Is.EqualTo("second run\n"));
        Assert.That(logs.Stderr, Does.Contain($"2 jobs match 'train'; showing the latest, job {second}").And.Contain($"The others: {first}"));
        Assert.That(_sandbox.Run("report", "train").Stderr, Does.Contain("showing the latest"));
        Assert.That(_sandbox.Ok("logs", first.ToString()), Is.EqualTo("first run\n"), "a number reaches the older one");
    }

    [Test, Order(3)]
    public void Cancel_considers_only_the_jobs_it_can_change()
    {
        var ended = _sandbox.Submit("-n", "resnet-a", "true");
        _sandbox.WaitForEnd(ended);
        var running = _sandbox.Submit("-n", "resnet-b", "sleep", "60");
        _sandbox.WaitForState(running, TimeSpan.FromSeconds(30), "RUNNING");
        var result = _sandbox.Run("cancel", "-y", "--grace", "1", "resnet*");
        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        Assert.That(result.Stdout, Does.Contain($"Job {running} (resnet-b) canceled"));
        Assert.That(_sandbox.Job(ended)!.State, Is.EqualTo("FINISHED"));
    }

    [Test, Order(4)]
    public void Cancel_lists_several_changeable_matches_and_cancels_none()
    {
        var blocker = _sandbox.Submit("-n", "blocker", "sleep", "60");
        var one = _sandbox.Submit("-n", "dup", "sleep", "60");
        var two = _sandbox.Submit("-n", "dup", "sleep", "60");
        var result = _sandbox.Run("cancel", "-y", "dup");
        Assert.That(result.ExitCode, Is.EqualTo(2), result.ToString());
        Assert.That(result.Stderr, Does.Contain("matches 2 jobs that can be canceled; nothing canceled"));
        Assert.That(result.Stderr, Does.Match($@"(?m)^{one} +dup +QUEUED").And.Match($@"(?m)^{two} +dup +QUEUED"));
        Assert.That(new[] { one, two }.Select(n => _sandbox.Job(n)!.State), Has.None.EqualTo("CANCELED"));
        Assert.That(_sandbox.Run("cancel", "-y", "--grace", "1", blocker.ToString()).ExitCode, Is.Zero);
    }
}
