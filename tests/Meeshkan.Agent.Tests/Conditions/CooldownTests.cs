namespace Meeshkan.Agent.Tests.Conditions;

/// <summary>A condition fires at most once per cooldown: the default (30 s), the agent's setting, or its own.</summary>
[TestFixture]
public sealed class CooldownTests
{
    private ConditionTestBed _bed = null!;

    [SetUp]
    public void SetUp() => _bed = new ConditionTestBed();

    [TearDown]
    public void TearDown() => _bed.Dispose();

    [Test]
    public void A_batch_met_at_many_points_fires_once()
    {
        _bed.AddExpression("loss > 5");

        _bed.Report(("loss", 6.0), ("loss", 7.0), ("loss", 8.0));

        var only = _bed.Events().Single();
        Assert.That(only.Values["loss"], Is.EqualTo(6.0), "the first point that met it");
    }

    [Test]
    public void The_default_cooldown_is_thirty_seconds()
    {
        _bed.AddExpression("loss > 5");
        _bed.Report(("loss", 6.0));

        _bed.Time.Advance(TimeSpan.FromSeconds(29));
        _bed.Report(("loss", 7.0));
        Assert.That(_bed.Events(), Has.Count.EqualTo(1));

        _bed.Time.Advance(TimeSpan.FromSeconds(1));
        _bed.Report(("loss", 8.0));
        Assert.That(_bed.Events().Select(e => e.Values["loss"]), Is.EqualTo(new[] { 6.0, 8.0 }));
        Assert.That(_bed.Observer.Met, Has.Count.EqualTo(2));
    }

    [Test]
    public void The_agent_setting_changes_the_default()
    {
        _bed.Config.ConditionCooldownSeconds = 5;
        _bed.Restart();
        _bed.AddExpression("loss > 5");
        _bed.Report(("loss", 6.0));

        _bed.Time.Advance(TimeSpan.FromSeconds(5));
        _bed.Report(("loss", 7.0));

        Assert.That(_bed.Events(), Has.Count.EqualTo(2));
    }

    [Test]
    public void A_condition_can_ask_for_its_own_cooldown()
    {
        _bed.AddExpression("loss > 5", cooldownSeconds: 120);
        _bed.Report(("loss", 6.0));

        _bed.Time.Advance(TimeSpan.FromSeconds(119));
        _bed.Report(("loss", 7.0));
        Assert.That(_bed.Events(), Has.Count.EqualTo(1));

        _bed.Time.Advance(TimeSpan.FromSeconds(1));
        _bed.Report(("loss", 8.0));
        Assert.That(_bed.Events(), Has.Count.EqualTo(2));
    }

    [Test]
    public void A_zero_setting_still_means_at_most_one_firing_a_second()
    {
        _bed.Config.ConditionCooldownSeconds = 0;
        _bed.Restart();
        _bed.AddExpression("loss > 5");

        _bed.Report(("loss", 6.0), ("loss", 7.0));
        _bed.Time.Advance(TimeSpan.FromSeconds(1));
        _bed.Report(("loss", 8.0));

        Assert.That(_bed.Events(), Has.Count.EqualTo(2));
    }

    [Test]
    public void Each_condition_has_its_own_cooldown()
    {
        _bed.AddExpression("loss > 5");
        _bed.Report(("loss", 6.0));

        _bed.AddExpression("loss > 6");
        _bed.Report(("loss", 7.0));

        Assert.That(_bed.Events(), Has.Count.EqualTo(2));
    }
}
