using System.Globalization;
using Meeshkan.Testing;

namespace Meeshkan.Cli.Tests;

/// <summary>submit --after and --after-any: jobs that wait for each other, as a pipeline uses them.</summary>
[TestFixture]
public sealed class DependencyTests() : SandboxFixture(AgentPer.Test)
{
    private string Gate(string name, string file, int exit) =>
        Sandbox.WriteFile(name, $"echo {name} ran; while [ ! -f {file} ]; do sleep 0.05; done; exit {exit}\n");

    [Test]
    public void A_job_after_another_waits_while_it_runs_and_starts_once_it_finished()
    {
        Gate("first.sh", "go", 0);
        var first = Sandbox.Submit("first.sh");
        var second = Sandbox.Submit("--after", "first.sh", "echo", "second ran");
        Sandbox.WaitForState(first, TimeSpan.FromSeconds(30), "RUNNING");

        Wait.For(() => Sandbox.Ok("list").Contains($"QUEUED (waiting for job {first})"), "list to say what the job waits for", 30);
        Assert.That(Sandbox.Job(second)!.State, Is.EqualTo("QUEUED"));
        Sandbox.WriteFile("go", "");

        var after = Sandbox.WaitForEnd(second);
        var before = Sandbox.Job(first)!;
        Assert.That((before.State, after.State), Is.EqualTo(("FINISHED", "FINISHED")));
        Assert.That(after.StartedAt, Is.GreaterThanOrEqualTo(before.FinishedAt!.Value), "it started after its dependency ended");
        Assert.That(Sandbox.Ok("logs", second.ToString(CultureInfo.InvariantCulture)), Is.EqualTo("second ran\n"));
    }

    [Test]
    public void A_chain_whose_first_job_fails_ends_failed_in_order_with_a_notification_each()
    {
        Gate("pre.sh", "go", 3);
        var pre = Sandbox.Submit("pre.sh");
        var train = Sandbox.Submit("-n", "train", "--after", pre.ToString(CultureInfo.InvariantCulture), "echo", "train ran");
        var evaluate = Sandbox.Submit("-n", "evaluate", "--after", "train", "echo", "evaluate ran");
        Sandbox.WaitForState(pre, TimeSpan.FromSeconds(30), "RUNNING");
        Assert.That(Sandbox.Job(train)!.State, Is.EqualTo("QUEUED"));
        Sandbox.WriteFile("go", "");

        var last = Sandbox.WaitForEnd(evaluate);
        var middle = Sandbox.Job(train)!;
        Assert.That(middle.State, Is.EqualTo("FAILED"));
        Assert.That(middle.FailureReason, Is.EqualTo($"dependency {pre} failed (exit status 3)"));
        Assert.That(last.State, Is.EqualTo("FAILED"));
        Assert.That(last.FailureReason, Does.StartWith($"dependency {train} failed"));
        Assert.That(middle.StartedAt, Is.Null, "it never ran");
        Assert.That(last.FinishedAt, Is.GreaterThanOrEqualTo(middle.FinishedAt!.Value), "in order");
        Assert.That(Sandbox.Ok("logs", train.ToString(CultureInfo.InvariantCulture)), Is.Empty);
        foreach (var number in new[] { train, evaluate })
        {
            Wait.For(() => Sandbox.Ok("notifications", number.ToString(CultureInfo.InvariantCulture)).Contains("job_failed"),
                $"the failure notification of job {number}", 30);
        }
        Assert.That(Sandbox.Ok("list"), Does.Contain($"FAILED (dependency {pre} failed (exit status 3))"));
    }

    [Test]
    public void A_job_after_a_canceled_one_fails_at_once()
    {
        Gate("blocker.sh", "never", 0);
        var blocker = Sandbox.Submit("blocker.sh");
        var waiting = Sandbox.Submit("-n", "waiting", "echo", "never");
        var dependant = Sandbox.Submit("--after", "waiting", "echo", "never either");

        Sandbox.Ok("cancel", waiting.ToString(CultureInfo.InvariantCulture));

        var ended = Sandbox.WaitForEnd(dependant);
        Assert.That(ended.State, Is.EqualTo("FAILED"));
        Assert.That(ended.FailureReason, Is.EqualTo($"dependency {waiting} failed (it was canceled)"));
        Assert.That(Sandbox.Job(blocker)!.State, Is.EqualTo("RUNNING"));
    }

    [Test]
    public void After_any_starts_once_the_jobs_ended_however_they_ended()
    {
        Gate("fails.sh", "go", 1);
        var fails = Sandbox.Submit("fails.sh");
        var cleanup = Sandbox.Submit("-n", "cleanup", "--after-any", "fails.sh", "echo", "cleanup ran");
        var report = Sandbox.Submit("-n", "report", "--after", "cleanup", "echo", "report ran");
        Sandbox.WaitForState(fails, TimeSpan.FromSeconds(30), "RUNNING");
        Assert.That(Sandbox.Job(cleanup)!.State, Is.EqualTo("QUEUED"));
        Sandbox.WriteFile("go", "");

        var last = Sandbox.WaitForEnd(report);
        var first = Sandbox.Job(fails)!;
        var middle = Sandbox.Job(cleanup)!;
        Assert.That((first.State, middle.State, last.State), Is.EqualTo(("FAILED", "FINISHED", "FINISHED")));
        Assert.That(middle.StartedAt, Is.GreaterThanOrEqualTo(first.FinishedAt!.Value));
        Assert.That(last.StartedAt, Is.GreaterThanOrEqualTo(middle.FinishedAt!.Value));
    }

    [Test]
    public void A_job_after_one_that_already_finished_starts_at_once()
    {
        var done = Sandbox.Submit("-n", "done", "true");
        Sandbox.WaitForEnd(done);
        var next = Sandbox.Submit("--after", "done", "echo", "next");
        Assert.That(Sandbox.WaitForEnd(next).State, Is.EqualTo("FINISHED"));
    }

    [Test]
    public void A_waiting_dependant_survives_a_kill_of_the_agent()
    {
        Gate("first.sh", "go", 0);
        var first = Sandbox.Submit("first.sh");
        var second = Sandbox.Submit("--after", first.ToString(CultureInfo.InvariantCulture), "echo", "second ran");
        Sandbox.WaitForState(first, TimeSpan.FromSeconds(30), "RUNNING");

        Sandbox.KillAgentIfAlive();
        Sandbox.Start();
        Assert.That(Sandbox.Job(second)!.State, Is.EqualTo("QUEUED"));
        Sandbox.WriteFile("go", "");

        Assert.That(Sandbox.WaitForEnd(second).State, Is.EqualTo("FINISHED"));
        Assert.That(Sandbox.Job(second)!.StartedAt, Is.GreaterThanOrEqualTo(Sandbox.Job(first)!.FinishedAt!.Value));
    }

    [TestCase("--after", "999", "--after 999: no job matches it")]
    [TestCase("--after", "tr*", "--after tr* matches 2 jobs: 1 (train-a), 2 (train-b); name one by its number")]
    [TestCase("--after-any", "1,", "--after-any takes jobs separated by commas")]
    public void Naming_no_job_or_an_ambiguous_pattern_is_refused_and_queues_nothing(string option, string value, string message)
    {
        Sandbox.Submit("-n", "train-a", "true");
        Sandbox.Submit("-n", "train-b", "true");

        var result = Sandbox.Run("submit", option, value, "echo", "x");

        Assert.That(result.ExitCode, Is.EqualTo(2), result.ToString());
        Assert.That(result.Stderr.Trim().Split('\n'), Has.Length.EqualTo(1), result.ToString());
        Assert.That(result.Stderr, Does.Contain(message));
        Assert.That(Sandbox.Jobs(), Has.Count.EqualTo(2), "nothing queued");
    }
}
