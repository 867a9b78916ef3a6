using Meeshkan.V1;

namespace Meeshkan.Agent.Tests.Conditions;

/// <summary>Conditions, their cooldowns and the latest values they read survive an agent restart.</summary>
[TestFixture]
public sealed class ConditionRestartTests : ConditionBedFixture
{
    [Test]
    public void An_expression_condition_keeps_working_after_a_restart()
    {
        var id = Bed.AddExpression("loss > 5");

        Bed.Restart();
        Bed.Report(("loss", 6.0));

        Assert.That(Bed.Events().Single().ConditionId, Is.EqualTo(id));
    }

    [Test]
    public void The_cooldown_survives_a_restart()
    {
        Bed.AddExpression("loss > 5");
        Bed.Report(("loss", 6.0));

        Bed.Restart();
        Bed.Time.Advance(TimeSpan.FromSeconds(10));
        Bed.Report(("loss", 7.0));
        Assert.That(Bed.Events(), Has.Count.EqualTo(1));

        Bed.Time.Advance(TimeSpan.FromSeconds(20));
        Bed.Report(("loss", 8.0));
        Assert.That(Bed.Events(), Has.Count.EqualTo(2));
    }

    [Test]
    public void Other_scalars_are_read_from_the_store_after_a_restart()
    {
        Bed.AddExpression("a - b > 0.2");
        Bed.Report(("b", 5.0));

        Bed.Restart();
        Bed.Report(("a", 5.1));
        Assert.That(Bed.Events(), Is.Empty, "b is 5, not the default 1");

        Bed.Report(("a", 5.3));
        Assert.That(Bed.Events().Single().Values["b"], Is.EqualTo(5.0));
    }

    [Test]
    public void Values_reported_before_a_condition_was_added_are_its_starting_point()
    {
        Bed.Report(("b", 5.0));
        Bed.AddExpression("a - b > 0.2");

        Bed.Report(("a", 5.1));

        Assert.That(Bed.Events(), Is.Empty);
    }

    [Test]
    public void A_client_condition_can_be_reported_met_after_a_restart()
    {
        var id = Bed.Engine.Add(Bed.Job, new AddConditionRequest { EvaluatedByClient = true, Names = { "loss" } }).Id;

        Bed.Restart();

        Assert.That(Bed.Engine.RecordClientFiring(Bed.Job, id, new Dictionary<string, double> { ["loss"] = 3 }), Is.True);
        Assert.That(Bed.Events().Single().Description, Is.EqualTo("condition on loss"));
    }
}
