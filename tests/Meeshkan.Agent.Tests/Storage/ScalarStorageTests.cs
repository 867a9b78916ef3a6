using Meeshkan.Testing;
using Meeshkan.Agent.Tests.Conditions;
using Meeshkan.V1;

namespace Meeshkan.Agent.Tests.Storage;

/// <summary>Chunks written in place: every point comes back from History with its step, value and time.</summary>
public sealed class ScalarStorageTests
{
    [Test]
    public void History_returns_auto_numbered_and_explicit_steps_exactly()
    {
        using var bed = new ConditionTestBed();
        var auto = new ScalarBatch { JobId = bed.Job.Id, Names = { "loss" } };
        for (var i = 0; i < 3; i++)
        {
            auto.NameIndex.Add(0);
            auto.Values.Add(i == 1 ? double.NaN : i * 0.5);
            auto.WallTimeUs.Add(1_000_000 + i);
        }
        bed.Scalars.Append(bed.Job.Number, bed.Job.ReportingAttempt, auto, 5);
        bed.Scalars.Append(bed.Job.Number, bed.Job.ReportingAttempt, auto, 5); // no client id: stored again, numbered on

        var stepped = new ScalarBatch { JobId = bed.Job.Id, Names = { "acc", "lr" } };
        long[] steps = [10, 20, 21, 5];
        for (var i = 0; i < steps.Length; i++)
        {
            stepped.NameIndex.Add(0);
            stepped.Values.Add(double.PositiveInfinity - i);
            stepped.Steps.Add(steps[i]);
        }
        stepped.NameIndex.Add(1);
        stepped.Values.Add(0.1);
        stepped.Steps.Add(7);
        bed.Scalars.Append(bed.Job.Number, bed.Job.ReportingAttempt, stepped, 42);

        var loss = bed.Scalars.History(bed.Job.Number, "loss")!;
        Assert.That(loss.Select(p => p.Step), Is.EqualTo(new long[] { 0, 1, 2, 3, 4, 5 }));
        Assert.That(loss.Select(p => p.Value), Is.EqualTo(new[] { 0, double.NaN, 1, 0, double.NaN, 1 }));
        Assert.That(loss.Select(p => p.WallTimeUs), Is.EqualTo(new long[] { 1_000_000, 1_000_001, 1_000_002, 1_000_000, 1_000_001, 1_000_002 }));

        var acc = bed.Scalars.History(bed.Job.Number, "acc")!;
        Assert.That(acc.Select(p => p.Step), Is.EqualTo(steps));
        Assert.That(acc.Select(p => p.WallTimeUs), Is.All.EqualTo(42));
        Assert.That(bed.Scalars.History(bed.Job.Number, "lr")!.Single().Step, Is.EqualTo(7));
        Assert.That(bed.Scalars.History(bed.Job.Number, "missing"), Is.Null);
        Assert.That(bed.Scalars.Latest(bed.Job.Number).Single(s => s.Name == "loss").Count, Is.EqualTo(6));
    }

    [Test]
    public void Each_attempt_of_a_job_has_its_own_scalars_and_reads_default_to_the_latest()
    {
        using var bed = new ConditionTestBed();
        var number = bed.Job.Number;
        bed.Scalars.Append(number, 1, ScalarBatches.Of(bed.Job.Id, ("loss", 3.0), ("loss", 2.0), ("acc", 0.1)), 10);
        using (var connection = bed.Database.Open())
        {
            Meeshkan.Agent.Store.Database.Execute(connection, $"UPDATE jobs SET attempt = 2 WHERE number = {number}");
        }
        Assert.That(bed.Scalars.Latest(number), Is.Empty, "attempt 2 has reported nothing yet");
        bed.Scalars.Append(number, 2, ScalarBatches.Of(bed.Job.Id, ("loss", 9.0)), 20);

        Assert.That(bed.Scalars.History(number, "loss")!.Select(p => (p.Step, p.Value)), Is.EqualTo(new[] { (0L, 9.0) }),
            "the latest attempt's points only, numbered from 0");
        Assert.That(bed.Scalars.History(number, "loss", attempt: 1)!.Select(p => p.Value), Is.EqualTo(new[] { 3.0, 2.0 }));
        Assert.That(bed.Scalars.History(number, "acc"), Is.Null, "attempt 2 has no acc");
        Assert.That(bed.Scalars.Latest(number, 1).Select(s => (s.Name, s.Count)), Is.EqualTo(new[] { ("acc", 1L), ("loss", 2L) }));
        Assert.That(bed.Scalars.MostRecentPerJob()[number].Value, Is.EqualTo(9.0));
        Assert.That(bed.Scalars.LatestOf([number], ["loss"])[(number, "loss")], Is.EqualTo(9.0));
        Assert.That(new Meeshkan.Agent.Store.ScalarBuckets(bed.Database).Read(number, "loss", Meeshkan.Agent.Store.ScalarBuckets.Axis.Step, null, null, 10)!.Points, Is.EqualTo(1));
        Assert.That(new Meeshkan.Agent.Store.ScalarBuckets(bed.Database).Read(number, "loss", Meeshkan.Agent.Store.ScalarBuckets.Axis.Step, null, null, 10, attempt: 1)!.Points, Is.EqualTo(2));
        Assert.That(bed.Scalars.Overview(number, "loss", 10, attempt: 1)!.Value.Values, Is.EqualTo(new[] { 3.0, 2.0 }));
    }

    [Test]
    public void Overview_keeps_a_long_history_in_bounded_size_with_its_spikes()
    {
        using var bed = new ConditionTestBed();
        for (var chunk = 0; chunk < 20; chunk++)
        {
            var batch = new ScalarBatch { JobId = bed.Job.Id, Names = { "loss" } };
            for (var i = 0; i < 10_000; i++)
            {
                var step = chunk * 10_000 + i;
                batch.NameIndex.Add(0);
                batch.Values.Add(step == 123_457 ? 50.0 : step == 7 ? double.NaN : 1.0 / (1 + step));
            }
            bed.Scalars.Append(bed.Job.Number, bed.Job.ReportingAttempt, batch, 1);
        }

        var (steps, values) = bed.Scalars.Overview(bed.Job.Number, "loss", 1000)!.Value;
        Assert.That(values, Has.Length.InRange(1000, 2000), "at most two points a bucket");
        Assert.That(values.Max(), Is.EqualTo(50.0), "the spike survives");
        Assert.That(steps[Array.IndexOf(values, 50.0)], Is.EqualTo(123_457));
        Assert.That(values, Has.None.NaN);
        Assert.That(steps, Is.Ordered, "in step order");
        Assert.That(bed.Scalars.Overview(bed.Job.Number, "missing", 10), Is.Null);
    }
}
