namespace Meeshkan.Agent.Tests.Conditions;

/// <summary>A condition fires at most once per cooldown: the default (30 s), the agent's setting, or its own.</summary>
[TestFixture]
public sealed class CooldownTests : ConditionBedFixture
{
    [Test]
    public void A_batch_met_at_many_points_fires_once()
    {
        Bed.AddExpression("loss > 5");

        Bed.Report(("loss", 6.0), ("loss", 7.0), ("loss", 8.0));

        var only = Bed.Events().Single();
        Assert.That(only.Values["loss"], Is.EqualTo(6.0), "the first point that met it");
    }

    [Test]
    public void The_default_cooldown_is_thirty_seconds()
    {
        Bed.AddExpression("loss > 5");
        Bed.Report(("loss", 6.0));

        Bed.Time.Advance(TimeSpan.FromSeconds(29));
        Bed.Report(("loss", 7.0));
        Assert.That(Bed.Events(), Has.Count.EqualTo(1));

        Bed.Time.Advance(TimeSpan.FromSeconds(1));
        Bed.Report(("loss", 8.0));
        Assert.That(Bed.Events().Select(e => e.Values["loss"]), Is.EqualTo(new[] { 6.0, 8.0 }));
        Assert.That(Bed.Observer.Met, Has.Count.EqualTo(2));
    }

    [Test]
    public void The_agent_setting_changes_the_default()
    {
        Bed.Config.ConditionCooldownSeconds = 5;
        Bed.Restart();
        Bed.AddExpression("loss > 5");
        Bed.Report(("loss", 6.0));

        Bed.Time.Advance(TimeSpan.FromSeconds(5));
        Bed.Report(("loss", 7.0));

        Assert.That(Bed.Events(), Has.Count.EqualTo(2));
    }

    [Test]
    public void A_condition_can_ask_for_its_own_cooldown()
    {
        Bed.AddExpression("loss > 5", cooldownSeconds: 120);
        Bed.Report(("loss", 6.0));

        Bed.Time.Advance(TimeSpan.FromSeconds(119));
        Bed.Report(("loss", 7.0));
        Assert.That(Bed.Events(), Has.Count.EqualTo(1));

        Bed.Time.Advance(TimeSpan.FromSeconds(1));
        Bed.Report(("loss", 8.0));
        Assert.That(Bed.Events(), Has.Count.EqualTo(2));
    }

    [Test]
    public void A_zero_setting_still_means_at_most_one_firing_a_second()
    {
        Bed.Config.ConditionCooldownSeconds = 0;
        Bed.Restart();
        Bed.AddExpression("loss > 5");

        Bed.Report(("loss", 6.0), ("loss", 7.0));
        Bed.Time.Advance(TimeSpan.FromSeconds(1));
        Bed.Report(("loss", 8.0));

        Assert.That(Bed.Events(), Has.Count.EqualTo(2));
    }

    [Test]
    public void Each_condition_has_its_own_cooldown()
    {
        Bed.AddExpression("loss > 5");
        Bed.Report(("loss", 6.0));

        Bed.AddExpression("loss > 6");
        Bed.Report(("loss", 7.0));

        Assert.That(Bed.Events(), Has.Count.EqualTo(2));
    }
}
