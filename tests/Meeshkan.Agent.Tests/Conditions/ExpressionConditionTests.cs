using Meeshkan.V1;

namespace Meeshkan.Agent.Tests.Conditions;

/// <summary>Conditions the agent evaluates as scalars arrive.</summary>
[TestFixture]
public sealed class ExpressionConditionTests : ConditionBedFixture
{
    [Test]
    public void A_met_expression_stores_one_event_with_its_scalars_and_tells_observers()
    {
        var id = Bed.AddExpression("eval_loss - train_loss > 0.2");

        Bed.Report(("train_loss", 1.0), ("eval_loss", 1.1), ("accuracy", 0.5));
        Assert.That(Bed.Events(), Is.Empty);

        Bed.Report(("eval_loss", 1.3));

        var events = Bed.Events();
        Assert.That(events, Has.Count.EqualTo(1));
        Assert.That(events[0].ConditionId, Is.EqualTo(id));
        Assert.That(events[0].Description, Is.EqualTo("eval_loss - train_loss > 0.2"));
        Assert.That(events[0].Values, Is.EquivalentTo(new Dictionary<string, double> { ["eval_loss"] = 1.3, ["train_loss"] = 1.0 }));
        Assert.That(Bed.Observer.Met, Has.Count.EqualTo(1));
        Assert.That(Bed.Observer.Met[0].Job.Number, Is.EqualTo(Bed.Job.Number));
        Assert.That(Bed.Observer.Met[0].Event.ConditionId, Is.EqualTo(id));
        Assert.That(Bed.Observer.Met[0].OnlyReported, Is.False);
    }

    [Test]
    public void Scalars_reported_together_are_evaluated_together()
    {
        Bed.AddExpression("[eval loss] - [train loss] > 0.2");

        // One report_scalar("train loss", 0.1, "eval loss", 0.15) call: the same wall time. Alone,
        // "train loss" = 0.1 against the default 1 would meet the condition.
        Bed.Engine.Evaluate(Bed.Job, Bed.Store(Bed.Job, [("train loss", 0.1, 5), ("eval loss", 0.15, 5)]));
        Assert.That(Bed.Events(), Is.Empty);

        // The same name twice at one wall time is still two changes.
        Bed.Engine.Evaluate(Bed.Job, Bed.Store(Bed.Job, [("eval loss", 0.5, 9), ("eval loss", 0.15, 9)]));
        Assert.That(Bed.Events(), Has.Count.EqualTo(1));
        Assert.That(Bed.Events()[0].Values["eval loss"], Is.EqualTo(0.5));
    }

    [Test]
    public void An_expression_never_met_records_nothing()
    {
        Bed.AddExpression("loss < 0.1");

        Bed.Report(("loss", 2.0), ("loss", 1.0), ("loss", 0.5), ("loss", 0.1));

        Assert.That(Bed.Events(), Is.Empty);
        Assert.That(Bed.Observer.Met, Is.Empty);
    }

    [Test]
    public void Names_with_spaces_are_written_in_brackets()
    {
        var (_, names) = Bed.Engine.Add(Bed.Job, new AddConditionRequest { Expression = "[train loss] < 0.1" });
        Assert.That(names, Is.EqualTo(new[] { "train loss" }));

        Bed.Report(("train loss", 0.05));

        Assert.That(Bed.Events().Single().Values["train loss"], Is.EqualTo(0.05));
    }

    [Test]
    public void A_scalar_not_reported_yet_counts_as_one()
    {
        Bed.AddExpression("a + b > 2.5");

        Bed.Report(("a", 1.4));
        Assert.That(Bed.Events(), Is.Empty, "1.4 + 1 is not above 2.5");

        Bed.Report(("a", 1.6));
        Assert.That(Bed.Events().Single().Values, Is.EquivalentTo(new Dictionary<string, double> { ["a"] = 1.6, ["b"] = 1 }));
    }

    [Test]
    public void Loss_not_equal_to_itself_catches_NaN()
    {
        Bed.AddExpression("loss != loss");

        Bed.Report(("loss", 0.5), ("loss", 0.4));
        Assert.That(Bed.Events(), Is.Empty);

        Bed.Report(("loss", 0.3), ("loss", double.NaN));
        Assert.That(double.IsNaN(Bed.Events().Single().Values["loss"]));
    }

    [Test]
    public void Functions_are_called_in_any_case()
    {
        Bed.AddExpression("abs(a - b) > 0.2 and Max(a, b) < 10 and isnan(c) == false");

        Bed.Report(("a", 1.0), ("b", 1.1));
        Assert.That(Bed.Events(), Is.Empty);

        Bed.Report(("b", 0.7));
        Assert.That(Bed.Events(), Has.Count.EqualTo(1));
    }

    [Test]
    public void Isinf_is_met_by_either_infinity_and_isnan_by_nan()
    {
        Bed.AddExpression("isinf([train loss])");
        Bed.AddExpression("isnan(loss)");

        Bed.Report(("train loss", 1e308), ("loss", 0.5));
        Assert.That(Bed.Events(), Is.Empty);

        Bed.Report(("train loss", double.NegativeInfinity));
        Assert.That(Bed.Events().Single().Values["train loss"], Is.EqualTo(double.NegativeInfinity));

        Bed.Report(("loss", double.NaN));
        Assert.That(Bed.Events(), Has.Count.EqualTo(2));
    }

    [Test]
    public void Division_by_zero_is_infinity_not_an_error()
    {
        Bed.AddExpression("a / b > 1000");

        Bed.Report(("a", 1.0), ("b", 0.0));

        Assert.That(Bed.Events().Single().Values["b"], Is.EqualTo(0.0));
    }

    [Test]
    public void A_condition_that_throws_is_not_met_and_the_report_goes_on()
    {
        Bed.AddExpression("round(a, digits) > 1");
        Bed.AddExpression("a > 1");

        // Math.Round refuses 20 digits: that condition throws at every point, the other one still fires.
        Assert.DoesNotThrow(() => Bed.Report(("digits", 20.0), ("a", 2.0), ("a", 3.0)));

        Assert.That(Bed.Events().Single().Description, Is.EqualTo("a > 1"));
    }

    [Test]
    public void Points_of_several_scalars_are_taken_in_wall_time_order()
    {
        Bed.Report(("a", 0.0), ("b", 0.0));
        Bed.AddExpression("a > b");

        // b is listed first in the batch, but a's point is earlier: at that moment a=2 and b is still 0.
        var stored = Bed.Store(Bed.Job, [("b", 3.0, 20), ("a", 2.0, 10)]);
        Assert.That(stored.Select(s => s.Name), Is.EqualTo(new[] { "b", "a" }));
        Bed.Engine.Evaluate(Bed.Job, stored);

        Assert.That(Bed.Events().Single().Values, Is.EquivalentTo(new Dictionary<string, double> { ["a"] = 2, ["b"] = 0 }));
    }

    [Test]
    public void Names_given_with_an_expression_come_first_and_the_expression_adds_its_own()
    {
        var (_, names) = Bed.Engine.Add(Bed.Job, new AddConditionRequest { Expression = "a - b > 0.2", Names = { "b", "c" } });

        Assert.That(names, Is.EqualTo(new[] { "b", "c", "a" }));
    }

    [Test]
    public void The_description_and_only_reported_travel_with_the_firing()
    {
        Bed.Engine.Add(Bed.Job, new AddConditionRequest { Expression = "loss > 5", Description = "diverging", OnlyReported = true });

        Bed.Report(("loss", 6.0));

        Assert.That(Bed.Events().Single().Description, Is.EqualTo("diverging"));
        Assert.That(Bed.Observer.Met.Single().OnlyReported, Is.True);
    }

    [Test]
    public void Conditions_belong_to_their_job()
    {
        var other = Bed.NewJob();
        Bed.AddExpression("loss > 5");

        Bed.Report(other, ("loss", 6.0));

        Assert.That(Bed.Events(), Is.Empty);
        Assert.That(Bed.Events(other), Is.Empty);
    }
}
