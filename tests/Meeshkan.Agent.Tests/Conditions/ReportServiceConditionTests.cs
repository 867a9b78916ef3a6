using Meeshkan.Agent.Services;
using Meeshkan.V1;

namespace Meeshkan.Agent.Tests.Conditions;

/// <summary>Conditions as a script meets them: through the ReportService's calls.</summary>
[TestFixture]
public sealed class ReportServiceConditionTests
{
    private ConditionTestBed _bed = null!;
    private ReportServiceImpl _service = null!;

    [SetUp]
    public void SetUp()
    {
        _bed = new ConditionTestBed();
        _service = _bed.NewReportService();
    }

    [TearDown]
    public void TearDown() => _bed.Dispose();

    [Test]
    public async Task A_reported_batch_fires_a_registered_expression_once_even_when_retried()
    {
        var added = await _service.AddCondition(new AddConditionRequest { JobId = _bed.Job.Id, Expression = "loss != loss" }, null!);
        Assert.That(added.Names, Is.EqualTo(new[] { "loss" }));

        var batch = new ScalarBatch { JobId = _bed.Job.Id, Names = { "loss" }, NameIndex = { 0, 0 }, Values = { 0.5, double.NaN }, ClientId = "c1", Sequence = 1 };
        await _service.ReportScalars(batch, null!);
        _bed.Time.Advance(TimeSpan.FromMinutes(5));
        var retry = await _service.ReportScalars(batch, null!);

        Assert.That(retry.Duplicate, Is.True);
        Assert.That(_bed.Events().Single().ConditionId, Is.EqualTo(added.ConditionId));
        Assert.That(_bed.Observer.Met, Has.Count.EqualTo(1));
    }

    [Test]
    public async Task A_client_condition_is_reported_met_and_held_back_by_the_cooldown()
    {
        var added = await _service.AddCondition(new AddConditionRequest
        {
            JobId = _bed.Job.Id, EvaluatedByClient = true, Names = { "acc" }, Description = "lambda acc: acc > 0.9",
        }, null!);

        var met = new ConditionMetRequest { JobId = _bed.Job.Id, ConditionId = added.ConditionId, Values = { ["acc"] = 0.95 } };
        var first = await _service.ReportConditionMet(met, null!);
        var second = await _service.ReportConditionMet(met, null!);

        Assert.That((first.Recorded, second.Recorded), Is.EqualTo((true, false)));
        Assert.That(_bed.Events().Single().Values["acc"], Is.EqualTo(0.95));
    }
}
