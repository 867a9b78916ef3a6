using System.Diagnostics;

namespace Meeshkan.Client.Tests;

/// <summary>Measures, does not judge: prints scalars per second against the in-process fake agent.</summary>
[TestFixture, Category("Throughput")]
public sealed class ThroughputTests : ReporterTestBase
{
    [Test]
    public async Task Report_five_million_scalars_and_print_the_rate()
    {
        const int Points = 5_000_000;
        Agent.KeepBatches = false;
        var reporter = NewReporter(configure: o => o.ShutdownTimeout = TimeSpan.FromSeconds(30));
        reporter.ReportScalar("warm-up", 0);
        await reporter.FlushAsync();

        var total = Stopwatch.StartNew();
        for (var i = 0; i < Points / 2; i++)
        {
            reporter.ReportScalar("train loss", i * 1e-6, "eval loss", i * 2e-6);
        }
        var caller = total.Elapsed;
        Assert.That(await reporter.FlushAsync(), Is.True);
        var endToEnd = total.Elapsed;

        Assert.That(Agent.StoredPoints, Is.EqualTo(Points + 1));
        TestContext.Out.WriteLine(
            $"caller: {Points / caller.TotalSeconds:N0} scalars/s ({caller.TotalNanoseconds / Points:F1} ns per scalar); " +
            $"end to end to the fake agent: {Points / endToEnd.TotalSeconds:N0} scalars/s");
    }
}
