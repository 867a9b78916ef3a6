using Meeshkan.V1;

namespace Meeshkan.Client.Tests;

[TestFixture]
public sealed class ConditionTests : ReporterTestBase
{
    [Test]
    public async Task A_function_condition_is_registered_and_fires_with_1_for_scalars_not_reported_yet()
    {
        var reporter = NewReporter();
        var callerThread = Environment.CurrentManagedThreadId;
        var evaluatedOn = 0;

        reporter.AddCondition(["train loss", "eval loss"], v =>
        {
            evaluatedOn = Environment.CurrentManagedThreadId;
            return Math.Abs(v[0] - v[1]) > 0.2;
        });
        reporter.ReportScalar("train loss", 1.5);
        Assert.That(await reporter.FlushAsync(), Is.True);

        var registered = Agent.Requests<AddConditionRequest>("AddCondition").Single();
        Assert.That(registered.EvaluatedByClient, Is.True);
        Assert.That(registered.Names, Is.EqualTo(new[] { "train loss", "eval loss" }));
        Assert.That(registered.Description, Does.Contain("Math.Abs(v[0] - v[1]) > 0.2"), "the lambda's source text");
        var met = Agent.Requests<ConditionMetRequest>("ReportConditionMet").Single();
        Assert.That(met.Values, Is.EquivalentTo(new Dictionary<string, double> { ["train loss"] = 1.5, ["eval loss"] = 1.0 }));
        Assert.That(evaluatedOn, Is.Not.EqualTo(callerThread), "evaluated on the pump, not the training thread");
    }

    [Test]
    public async Task A_typed_condition_fires_only_when_it_holds_for_the_latest_values()
    {
        var reporter = NewReporter();
        reporter.AddCondition("train loss", "eval loss", (train, eval) => eval - train > 0.2);

        reporter.ReportScalar("train loss", 0.5, "eval loss", 0.6);
        await reporter.FlushAsync();
        Assert.That(Agent.Requests<ConditionMetRequest>("ReportConditionMet"), Is.Empty);

        reporter.ReportScalar("eval loss", 0.9);
        await reporter.FlushAsync();
        var met = Agent.Requests<ConditionMetRequest>("ReportConditionMet").Single();
        Assert.That(met.Values["train loss"], Is.EqualTo(0.5));
        Assert.That(met.Values["eval loss"], Is.EqualTo(0.9));
    }

    [Test]
    public async Task Every_report_is_checked_not_only_the_latest_and_pairs_of_one_call_together()
    {
        var reporter = NewReporter();
        var seen = new List<(double Train, double Eval)>();
        reporter.AddCondition("train loss", "eval loss", (train, eval) =>
        {
            seen.Add((train, eval));
            return eval - train > 0.2;
        });
        for (var i = 0; i < 100; i++)
        {
            // Alone, "train loss" = 0.1 against the default 1 would meet it: the pair is checked together.
            reporter.ReportScalar("train loss", 0.1, "eval loss", i == 50 ? 0.5 : 0.15);
        }
        await reporter.FlushAsync();

        var met = Agent.Requests<ConditionMetRequest>("ReportConditionMet").Single();
        Assert.That(met.Values["eval loss"], Is.EqualTo(0.5), "a spike in the middle of a send cycle is seen");
        Assert.That(seen[0], Is.EqualTo((0.1, 0.15)));
        Assert.That(seen, Has.Count.EqualTo(51), "checked at every report until met, then quiet");
    }

    [Test]
    public async Task A_condition_that_throws_is_skipped_with_one_warning()
    {
        var reporter = NewReporter();
        reporter.AddCondition("loss", loss => loss > 1 ? throw new InvalidOperationException("boom") : false);

        reporter.ReportScalar("loss", 2);
        await reporter.FlushAsync();
        reporter.ReportScalar("loss", 3);
        await reporter.FlushAsync();

        Assert.That(Warnings, Has.Exactly(1).Contains("boom"));
        Assert.That(Agent.StoredPoints, Is.EqualTo(2));
    }

    [Test]
    public void An_expression_the_agent_rejects_throws_ArgumentException()
    {
        var reporter = NewReporter();

        Assert.That(() => reporter.AddCondition("eval_loss ?? train_loss"),
            Throws.ArgumentException.With.Message.Contains("cannot parse"));
        Assert.That(() => reporter.AddConditionAsync("eval_loss ?? train_loss"),
            Throws.ArgumentException.With.Message.Contains("cannot parse"));
        Assert.That(() => reporter.AddCondition("  "), Throws.ArgumentException);
    }

    [Test]
    public async Task An_expression_is_registered_with_the_agent_at_once()
    {
        var reporter = NewReporter();

        reporter.AddCondition("eval_loss - train_loss > 0.2", onlyReported: true);

        var registered = Agent.Requests<AddConditionRequest>("AddCondition").Single();
        Assert.That((registered.JobId, registered.Expression, registered.EvaluatedByClient, registered.OnlyReported),
            Is.EqualTo((JobId, "eval_loss - train_loss > 0.2", false, true)));
        reporter.ReportScalar("eval_loss", 1);
        await reporter.FlushAsync();
        Assert.That(Agent.Requests<AddConditionRequest>("AddCondition"), Has.Count.EqualTo(1), "registered once");
    }

    [Test]
    public async Task A_condition_that_stops_the_job_is_registered_with_the_stop_action()
    {
        var reporter = NewReporter();

        reporter.AddCondition("isnan([train loss])", action: ConditionAction.Stop);
        reporter.AddCondition("loss", double.IsInfinity, action: ConditionAction.Stop);
        reporter.AddCondition("loss > 10");
        reporter.ReportScalar("loss", 1);
        await reporter.FlushAsync();

        var registered = Agent.Requests<AddConditionRequest>("AddCondition");
        Assert.That(registered.Select(r => (r.EvaluatedByClient, r.Action)), Is.EquivalentTo(new[]
        {
            (false, V1.ConditionAction.Stop), (true, V1.ConditionAction.Stop), (false, V1.ConditionAction.Notify),
        }));
    }

    [Test]
    public async Task An_expression_added_while_the_agent_is_down_is_registered_when_it_comes_up()
    {
        await Agent.StopAsync();
        var reporter = NewReporter(configure: o => (o.InitialRetryDelay, o.MaxRetryDelay) = (TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(300)));

        reporter.AddCondition("loss < 0.1");
        await Agent.StartAsync();

        Assert.That(await FakeAgent.WaitForAsync(() => Agent.Requests<AddConditionRequest>("AddCondition").Count == 1), Is.True);
    }
}
