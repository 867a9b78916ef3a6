using Meeshkan.Agent.Store;
using Meeshkan.Agent.Tests.Conditions;
using Meeshkan.V1;

namespace Meeshkan.Agent.Tests.Storage;

/// <summary>A chart's data at its width: two points a pixel column at most, spikes kept, detail on zoom, few points decoded.</summary>
public sealed class ScalarBucketsTests
{
    private static ScalarBuckets Filled(ConditionTestBed bed, int points)
    {
        for (var start = 0; start < points; start += 50_000)
        {
            var batch = new ScalarBatch { JobId = bed.Job.Id, Names = { "loss" } };
            for (var step = start; step < Math.Min(points, start + 50_000); step++)
            {
                batch.NameIndex.Add(0);
                batch.Values.Add(step == 654_321 ? 50.0 : step == 7 ? double.NaN : 1.0 / (1 + step));
                batch.WallTimeUs.Add(1_000_000_000L + step * 1000L);
            }
            bed.Scalars.Append(bed.Job.Number, bed.Job.ReportingAttempt, batch, 1);
        }
        return new ScalarBuckets(bed.Database);
    }

    [Test]
    public void The_whole_history_comes_from_chunk_extents_with_its_spike()
    {
        using var bed = new ConditionTestBed();
        var buckets = Filled(bed, 1_000_000);

        var chart = buckets.Read(bed.Job.Number, "loss", ScalarBuckets.Axis.Step, null, null, 200)!;
        Assert.That(chart.Points, Is.EqualTo(1_000_000));
        Assert.That(chart.Decoded, Is.EqualTo(0), "no point decoded for the full view");
        Assert.That(chart.X, Has.Length.LessThanOrEqualTo(400), "two points a bucket at most");
        Assert.That(chart.Y.Max(), Is.EqualTo(50.0), "the spike survives");
        Assert.That(chart.X[Array.IndexOf(chart.Y, 50.0)], Is.EqualTo(654_321));
        Assert.That(chart.X, Is.Ordered);
        Assert.That(chart.Y, Has.None.NaN);
    }

    [Test]
    public void A_zoomed_range_is_read_at_full_detail()
    {
        using var bed = new ConditionTestBed();
        var buckets = Filled(bed, 1_000_000);

        var chart = buckets.Read(bed.Job.Number, "loss", ScalarBuckets.Axis.Step, 654_000, 654_600, 1000)!;
        Assert.That(chart.Points, Is.EqualTo(601));
        Assert.That(chart.X, Is.EqualTo(Enumerable.Range(654_000, 601).Select(i => (double)i)), "every point when fewer than the columns");
        Assert.That(chart.Decoded, Is.LessThan(3 * 4096), "only the chunks under the range are decoded");

        var byTime = buckets.Read(bed.Job.Number, "loss", ScalarBuckets.Axis.Time, 1_000 + 654.0, 1_000 + 654.6, 1000)!;
        Assert.That(byTime.Y.Max(), Is.EqualTo(50.0));
        Assert.That(buckets.Read(bed.Job.Number, "missing", ScalarBuckets.Axis.Step, null, null, 10), Is.Null);
    }

    [TestCase(ScalarBuckets.Axis.Step)]
    [TestCase(ScalarBuckets.Axis.Time)]
    public void Chunk_extents_are_read_from_their_index_without_touching_the_blobs(ScalarBuckets.Axis axis)
    {
        using var bed = new ConditionTestBed();
        Filled(bed, 10_000);
        using var connection = bed.Database.Open();
        using var plan = connection.CreateCommand();
        plan.CommandText = "EXPLAIN QUERY PLAN " + ScalarBuckets.ExtentsQuery(axis);
        plan.Parameters.AddWithValue("$id", 1);
        using var reader = plan.ExecuteReader();
        var steps = new List<string>();
        while (reader.Read())
        {
            steps.Add(reader.GetString(3));
        }
        // A covering index: SQLite never reads a row, so never walks the blobs' overflow pages to reach the extents.
        Assert.That(steps, Has.Some.Contains("USING COVERING INDEX scalar_chunk_extents"), string.Join("; ", steps));
    }
}
