using Meeshkan.Agent.Services;
using Meeshkan.V1;

namespace Meeshkan.Agent.Tests.Conditions;

/// <summary>Conditions as a script meets them: through the ReportService's calls.</summary>
[TestFixture]
public sealed class ReportServiceConditionTests : ConditionBedFixture
{
    private ReportServiceImpl _service = null!;

    [SetUp]
    public void NewService() => _service = Bed.NewReportService();

    [Test]
    public async Task A_reported_batch_fires_a_registered_expression_once_even_when_retried()
    {
        var added = await _service.AddCondition(new AddConditionRequest { JobId = Bed.Job.Id, Expression = "loss != loss" }, null!);
        Assert.That(added.Names, Is.EqualTo(new[] { "loss" }));

        var batch = new ScalarBatch { JobId = Bed.Job.Id, Names = { "loss" }, NameIndex = { 0, 0 }, Values = { 0.5, double.NaN }, ClientId = "c1", Sequence = 1 };
        await _service.ReportScalars(batch, null!);
        Bed.Time.Advance(TimeSpan.FromMinutes(5));
        var retry = await _service.ReportScalars(batch, null!);

        Assert.That(retry.Duplicate, Is.True);
        Assert.That(Bed.Events().Single().ConditionId, Is.EqualTo(added.ConditionId));
        Assert.That(Bed.Observer.Met, Has.Count.EqualTo(1));
    }

    [Test]
    public async Task A_client_condition_is_reported_met_and_held_back_by_the_cooldown()
    {
        var added = await _service.AddCondition(new AddConditionRequest
        {
            JobId = Bed.Job.Id, EvaluatedByClient = true, Names = { "acc" }, Description = "lambda acc: acc > 0.9",
        }, null!);

        var met = new ConditionMetRequest { JobId = Bed.Job.Id, ConditionId = added.ConditionId, Values = { ["acc"] = 0.95 } };
        var first = await _service.ReportConditionMet(met, null!);
        var second = await _service.ReportConditionMet(met, null!);

        Assert.That((first.Recorded, second.Recorded), Is.EqualTo((true, false)));
        Assert.That(Bed.Events().Single().Values["acc"], Is.EqualTo(0.95));
    }
}
