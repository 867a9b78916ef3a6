using Meeshkan.V1;

namespace Meeshkan.Agent.Tests.Conditions;

/// <summary>Conditions the agent evaluates as scalars arrive.</summary>
[TestFixture]
public sealed class ExpressionConditionTests
{
    private ConditionTestBed _bed = null!;

    [SetUp]
    public void SetUp() => _bed = new ConditionTestBed();

    [TearDown]
    public void TearDown() => _bed.Dispose();

    [Test]
    public void A_met_expression_stores_one_event_with_its_scalars_and_tells_observers()
    {
        var id = _bed.AddExpression("eval_loss - train_loss > 0.2");

        _bed.Report(("train_loss", 1.0), ("eval_loss", 1.1), ("accuracy", 0.5));
        Assert.That(_bed.Events(), Is.Empty);

        _bed.Report(("eval_loss", 1.3));

        var events = _bed.Events();
        Assert.That(events, Has.Count.EqualTo(1));
        Assert.That(events[0].ConditionId, Is.EqualTo(id));
        Assert.That(events[0].Description, Is.EqualTo("eval_loss - train_loss > 0.2"));
        Assert.That(events[0].Values, Is.EquivalentTo(new Dictionary<string, double> { ["eval_loss"] = 1.3, ["train_loss"] = 1.0 }));
        Assert.That(_bed.Observer.Met, Has.Count.EqualTo(1));
        Assert.That(_bed.Observer.Met[0].Job.Number, Is.EqualTo(_bed.Job.Number));
        Assert.That(_bed.Observer.Met[0].Event.ConditionId, Is.EqualTo(id));
        Assert.That(_bed.Observer.Met[0].OnlyReported, Is.False);
    }

    [Test]
    public void Scalars_reported_together_are_evaluated_together()
    {
        _bed.AddExpression("[eval loss] - [train loss] > 0.2");

        // One report_scalar("train loss", 0.1, "eval loss", 0.15) call: the same wall time. Alone,
        // "train loss" = 0.1 against the default 1 would meet the condition.
        _bed.Engine.Evaluate(_bed.Job, _bed.Store(_bed.Job, [("train loss", 0.1, 5), ("eval loss", 0.15, 5)]));
        Assert.That(_bed.Events(), Is.Empty);

        // The same name twice at one wall time is still two changes.
        _bed.Engine.Evaluate(_bed.Job, _bed.Store(_bed.Job, [("eval loss", 0.5, 9), ("eval loss", 0.15, 9)]));
        Assert.That(_bed.Events(), Has.Count.EqualTo(1));
        Assert.That(_bed.Events()[0].Values["eval loss"], Is.EqualTo(0.5));
    }

    [Test]
    public void An_expression_never_met_records_nothing()
    {
        _bed.AddExpression("loss < 0.1");

        _bed.Report(("loss", 2.0), ("loss", 1.0), ("loss", 0.5), ("loss", 0.1));

        Assert.That(_bed.Events(), Is.Empty);
        Assert.That(_bed.Observer.Met, Is.Empty);
    }

    [Test]
    public void Names_with_spaces_are_written_in_brackets()
    {
        var (_, names) = _bed.Engine.Add(_bed.Job, new AddConditionRequest { Expression = "[train loss] < 0.1" });
        Assert.That(names, Is.EqualTo(new[] { "train loss" }));

        _bed.Report(("train loss", 0.05));

        Assert.That(_bed.Events().Single().Values["train loss"], Is.EqualTo(0.05));
    }

    [Test]
    public void A_scalar_not_reported_yet_counts_as_one()
    {
        _bed.AddExpression("a + b > 2.5");

        _bed.Report(("a", 1.4));
        Assert.That(_bed.Events(), Is.Empty, "1.4 + 1 is not above 2.5");

        _bed.Report(("a", 1.6));
        Assert.That(_bed.Events().Single().Values, Is.EquivalentTo(new Dictionary<string, double> { ["a"] = 1.6, ["b"] = 1 }));
    }

    [Test]
    public void Loss_not_equal_to_itself_catches_NaN()
    {
        _bed.AddExpression("loss != loss");

        _bed.Report(("loss", 0.5), ("loss", 0.4));
        Assert.That(_bed.Events(), Is.Empty);

        _bed.Report(("loss", 0.3), ("loss", double.NaN));
        Assert.That(double.IsNaN(_bed.Events().Single().Values["loss"]));
    }

    [Test]
    public void Functions_are_called_in_any_case()
    {
        _bed.AddExpression("abs(a - b) > 0.2 and Max(a, b) < 10 and isnan(c) == false");

        _bed.Report(("a", 1.0), ("b", 1.1));
        Assert.That(_bed.Events(), Is.Empty);

        _bed.Report(("b", 0.7));
        Assert.That(_bed.Events(), Has.Count.EqualTo(1));
    }

    [Test]
    public void Isinf_is_met_by_either_infinity_and_isnan_by_nan()
    {
        _bed.AddExpression("isinf([train loss])");
        _bed.AddExpression("isnan(loss)");

        _bed.Report(("train loss", 1e308), ("loss", 0.5));
        Assert.That(_bed.Events(), Is.Empty);

        _bed.Report(("train loss", double.NegativeInfinity));
        Assert.That(_bed.Events().Single().Values["train loss"], Is.EqualTo(double.NegativeInfinity));

        _bed.Report(("loss", double.NaN));
        Assert.That(_bed.Events(), Has.Count.EqualTo(2));
    }

    [Test]
    public void Division_by_zero_is_infinity_not_an_error()
    {
        _bed.AddExpression("a / b > 1000");

        _bed.Report(("a", 1.0), ("b", 0.0));

        Assert.That(_bed.Events().Single().Values["b"], Is.EqualTo(0.0));
    }

    [Test]
    public void A_condition_that_throws_is_not_met_and_the_report_goes_on()
    {
        _bed.AddExpression("round(a, digits) > 1");
        _bed.AddExpression("a > 1");

        // Math.Round refuses 20 digits: that condition throws at every point, the other one still fires.
        Assert.DoesNotThrow(() => _bed.Report(("digits", 20.0), ("a", 2.0), ("a", 3.0)));

        Assert.That(_bed.Events().Single().Description, Is.EqualTo("a > 1"));
    }

    [Test]
    public void Points_of_several_scalars_are_taken_in_wall_time_order()
    {
        _bed.Report(("a", 0.0), ("b", 0.0));
        _bed.AddExpression("a > b");

        // b is listed first in the batch, but a's point is earlier: at that moment a=2 and b is still 0.
        var stored = _bed.Store(_bed.Job, [("b", 3.0, 20), ("a", 2.0, 10)]);
        Assert.That(stored.Select(s => s.Name), Is.EqualTo(new[] { "b", "a" }));
        _bed.Engine.Evaluate(_bed.Job, stored);

        Assert.That(_bed.Events().Single().Values, Is.EquivalentTo(new Dictionary<string, double> { ["a"] = 2, ["b"] = 0 }));
    }

    [Test]
    public void Names_given_with_an_expression_come_first_and_the_expression_adds_its_own()
    {
        var (_, names) = _bed.Engine.Add(_bed.Job, new AddConditionRequest { Expression = "a - b > 0.2", Names = { "b", "c" } });

        Assert.That(names, Is.EqualTo(new[] { "b", "c", "a" }));
    }

    [Test]
    public void The_description_and_only_reported_travel_with_the_firing()
    {
        _bed.Engine.Add(_bed.Job, new AddConditionRequest { Expression = "loss > 5", Description = "diverging", OnlyReported = true });

        _bed.Report(("loss", 6.0));

        Assert.That(_bed.Events().Single().Description, Is.EqualTo("diverging"));
        Assert.That(_bed.Observer.Met.Single().OnlyReported, Is.True);
    }

    [Test]
    public void Conditions_belong_to_their_job()
    {
        var other = _bed.NewJob();
        _bed.AddExpression("loss > 5");

        _bed.Report(other, ("loss", 6.0));

        Assert.That(_bed.Events(), Is.Empty);
        Assert.That(_bed.Events(other), Is.Empty);
    }
}
