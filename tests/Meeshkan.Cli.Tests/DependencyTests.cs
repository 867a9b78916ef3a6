using System.Globalization;
using Meeshkan.Testing;

namespace Meeshkan.Cli.Tests;

/// <summary>submit --after and --after-any: jobs that wait for each other, as a pipeline uses them.</summary>
[TestFixture]
public sealed class DependencyTests
{
    private MeeshkanSandbox _sandbox = null!;

    [SetUp]
    public void StartAgent()
    {
        _sandbox = new MeeshkanSandbox();
        _sandbox.Start();
    }

    [TearDown]
    public void StopAgent() => _sandbox.Dispose();

    private string Gate(string name, string file, int exit) =>
        _sandbox.WriteFile(name, $"echo {name} ran; while [ ! -f {file} ]; do sleep 0.05; done; exit {exit}\n");

    [Test]
    public void A_job_after_another_waits_while_it_runs_and_starts_once_it_finished()
    {
        Gate("first.sh", "go", 0);
        var first = _sandbox.Submit("first.sh");
        var second = _sandbox.Submit("--after", "first.sh", "echo", "second ran");
        _sandbox.WaitForState(first, TimeSpan.FromSeconds(30), "RUNNING");

        Wait.For(() => _sandbox.Ok("list").Contains($"QUEUED (waiting for job {first})"), "list to say what the job waits for", 30);
        Assert.That(_sandbox.Job(second)!.State, Is.EqualTo("QUEUED"));
        _sandbox.WriteFile("go", "");

        var after = _sandbox.WaitForEnd(second);
        var before = _sandbox.Job(first)!;
        Assert.That((before.State, after.State), Is.EqualTo(("FINISHED", "FINISHED")));
        Assert.That(after.StartedAt, Is.GreaterThanOrEqualTo(before.FinishedAt!.Value), "it started after its dependency ended");
        Assert.That(_sandbox.Ok("logs", second.ToString(CultureInfo.InvariantCulture)), Is.EqualTo("second ran\n"));
    }

    [Test]
    public void A_chain_whose_first_job_fails_ends_failed_in_order_with_a_notification_each()
    {
        Gate("pre.sh", "go", 3);
        var pre = _sandbox.Submit("pre.sh");
        var train = _sandbox.Submit("-n", "train", "--after", pre.ToString(CultureInfo.InvariantCulture), "echo", "train ran");
        var evaluate = _sandbox.Submit("-n", "evaluate", "--after", "train", "echo", "evaluate ran");
        _sandbox.WaitForState(pre, TimeSpan.FromSeconds(30), "RUNNING");
        Assert.That(_sandbox.Job(train)!.State, Is.EqualTo("QUEUED"));
        _sandbox.WriteFile("go", "");

        var last = _sandbox.WaitForEnd(evaluate);
        var middle = _sandbox.Job(train)!;
        Assert.That(middle.State, Is.EqualTo("FAILED"));
        Assert.That(middle.FailureReason, Is.EqualTo($"dependency {pre} failed (exit status 3)"));
        Assert.That(last.State, Is.EqualTo("FAILED"));
        Assert.That(last.FailureReason, Does.StartWith($"dependency {train} failed"));
        Assert.That(middle.StartedAt, Is.Null, "it never ran");
        Assert.That(last.FinishedAt, Is.GreaterThanOrEqualTo(middle.FinishedAt!.Value), "in order");
        Assert.That(_sandbox.Ok("logs", train.ToString(CultureInfo.InvariantCulture)), Is.Empty);
        foreach (var number in new[] { train, evaluate })
        {
            Wait.For(() => _sandbox.Ok("notifications", number.ToString(CultureInfo.InvariantCulture)).Contains("job_failed"),
                $"the failure notification of job {number}", 30);
        }
        Assert.That(_sandbox.Ok("list"), Does.Contain($"FAILED (dependency {pre} failed (exit status 3))"));
    }

    [Test]
    public void A_job_after_a_canceled_one_fails_at_once()
    {
        Gate("blocker.sh", "never", 0);
        var blocker = _sandbox.Submit("blocker.sh");
        var waiting = _sandbox.Submit("-n", "waiting", "echo", "never");
        var dependant = _sandbox.Submit("--after", "waiting", "echo", "never either");

        _sandbox.Ok("cancel", waiting.ToString(CultureInfo.InvariantCulture));

        var ended = _sandbox.WaitForEnd(dependant);
        Assert.That(ended.State, Is.EqualTo("FAILED"));
        Assert.That(ended.FailureReason, Is.EqualTo($"dependency {waiting} failed (it was canceled)"));
        Assert.That(_sandbox.Job(blocker)!.State, Is.EqualTo("RUNNING"));
    }

    [Test]
    public void After_any_starts_once_the_jobs_ended_however_they_ended()
    {
        Gate("fails.sh", "go", 1);
        var fails = _sandbox.Submit("fails.sh");
        var cleanup = _sandbox.Submit("-n", "cleanup", "--after-any", "fails.sh", "echo", "cleanup ran");
        var report = _sandbox.Submit("-n", "report", "--after", "cleanup", "echo", "report ran");
        _sandbox.WaitForState(fails, TimeSpan.FromSeconds(30), "RUNNING");
        Assert.That(_sandbox.Job(cleanup)!.State, Is.EqualTo("QUEUED"));
        _sandbox.WriteFile("go", "");

        var last = _sandbox.WaitForEnd(report);
        var first = _sandbox.Job(fails)!;
        var middle = _sandbox.Job(cleanup)!;
        Assert.That((first.State, middle.State, last.State), Is.EqualTo(("FAILED", "FINISHED", "FINISHED")));
        Assert.That(middle.StartedAt, Is.GreaterThanOrEqualTo(first.FinishedAt!.Value));
        Assert.That(last.StartedAt, Is.GreaterThanOrEqualTo(middle.FinishedAt!.Value));
    }

    [Test]
    public void A_job_after_one_that_already_finished_starts_at_once()
    {
        var done = _sandbox.Submit("-n", "done", "true");
        _sandbox.WaitForEnd(done);
        var next = _sandbox.Submit("--after", "done", "echo", "next");
        Assert.That(_sandbox.WaitForEnd(next).State, Is.EqualTo("FINISHED"));
    }

    [Test]
    public void A_waiting_dependant_survives_a_kill_of_the_agent()
    {
        Gate("first.sh", "go", 0);
        var first = _sandbox.Submit("first.sh");
        var second = _sandbox.Submit("--after", first.ToString(CultureInfo.InvariantCulture), "echo", "second ran");
        _sandbox.WaitForState(first, TimeSpan.FromSeconds(30), "RUNNING");

        _sandbox.KillAgentIfAlive();
        _sandbox.Start();
        Assert.That(_sandbox.Job(second)!.State, Is.EqualTo("QUEUED"));
        _sandbox.WriteFile("go", "");

        Assert.That(_sandbox.WaitForEnd(second).State, Is.EqualTo("FINISHED"));
        Assert.That(_sandbox.Job(second)!.StartedAt, Is.GreaterThanOrEqualTo(_sandbox.Job(first)!.FinishedAt!.Value));
    }

    [TestCase("--after", "999", "--after 999: no job matches it")]
    [TestCase("--after", "tr*", "--after tr* matches 2 jobs: 1 (train-a), 2 (train-b); name one by its number")]
    [TestCase("--after-any", "1,", "--after-any takes jobs separated by commas")]
    public void Naming_no_job_or_an_ambiguous_pattern_is_refused_and_queues_nothing(string option, string value, string message)
    {
        _sandbox.Submit("-n", "train-a", "true");
        _sandbox.Submit("-n", "train-b", "true");

        var result = _sandbox.Run("submit", option, value, "echo", "x");

        Assert.That(result.ExitCode, Is.EqualTo(2), result.ToString());
        Assert.That(result.Stderr.Trim().Split('\n'), Has.Length.EqualTo(1), result.ToString());
        Assert.That(result.Stderr, Does.Contain(message));
        Assert.That(_sandbox.Jobs(), Has.Count.EqualTo(2), "nothing queued");
    }
}
