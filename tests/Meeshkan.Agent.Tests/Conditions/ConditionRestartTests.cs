using Meeshkan.V1;

namespace Meeshkan.Agent.Tests.Conditions;

/// <summary>Conditions, their cooldowns and the latest values they read survive an agent restart.</summary>
[TestFixture]
public sealed class ConditionRestartTests
{
    private ConditionTestBed _bed = null!;

    [SetUp]
    public void SetUp() => _bed = new ConditionTestBed();

    [TearDown]
    public void TearDown() => _bed.Dispose();

    [Test]
    public void An_expression_condition_keeps_working_after_a_restart()
    {
        var id = _bed.AddExpression("loss > 5");

        _bed.Restart();
        _bed.Report(("loss", 6.0));

        Assert.That(_bed.Events().Single().ConditionId, Is.EqualTo(id));
    }

    [Test]
    public void The_cooldown_survives_a_restart()
    {
        _bed.AddExpression("loss > 5");
        _bed.Report(("loss", 6.0));

        _bed.Restart();
        _bed.Time.Advance(TimeSpan.FromSeconds(10));
        _bed.Report(("loss", 7.0));
        Assert.That(_bed.Events(), Has.Count.EqualTo(1));

        _bed.Time.Advance(TimeSpan.FromSeconds(20));
        _bed.Report(("loss", 8.0));
        Assert.That(_bed.Events(), Has.Count.EqualTo(2));
    }

    [Test]
    public void Other_scalars_are_read_from_the_store_after_a_restart()
    {
        _bed.AddExpression("a - b > 0.2");
        _bed.Report(("b", 5.0));

        _bed.Restart();
        _bed.Report(("a", 5.1));
        Assert.That(_bed.Events(), Is.Empty, "b is 5, not the default 1");

        _bed.Report(("a", 5.3));
        Assert.That(_bed.Events().Single().Values["b"], Is.EqualTo(5.0));
    }

    [Test]
    public void Values_reported_before_a_condition_was_added_are_its_starting_point()
    {
        _bed.Report(("b", 5.0));
        _bed.AddExpression("a - b > 0.2");

        _bed.Report(("a", 5.1));

        Assert.That(_bed.Events(), Is.Empty);
    }

    [Test]
    public void A_client_condition_can_be_reported_met_after_a_restart()
    {
        var id = _bed.Engine.Add(_bed.Job, new AddConditionRequest { EvaluatedByClient = true, Names = { "loss" } }).Id;

        _bed.Restart();

        Assert.That(_bed.Engine.RecordClientFiring(_bed.Job, id, new Dictionary<string, double> { ["loss"] = 3 }), Is.True);
        Assert.That(_bed.Events().Single().Description, Is.EqualTo("condition on loss"));
    }
}
