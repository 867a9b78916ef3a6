using Meeshkan.Agent.Services;
using Meeshkan.Agent.Store;

namespace Meeshkan.Agent.Charts;

/// <summary>Charts a job's stored scalars (the <c>RenderChart</c> RPC, `report --plot`, and notifications).</summary>
public sealed class ScalarChartRenderer(ScalarStore scalars) : IChartRenderer
{
    public byte[] Render(JobRecord job, IReadOnlyCollection<string> names, int width, int height, bool logY = false, int attempt = 0) =>
        ChartDrawer.DrawPng(Title(job, attempt), Load(job.Number, names, attempt), width, height, logY);

    /// <summary>
    /// The job's series of one attempt (0: its latest), by name; all of them when <paramref name="names"/> is empty.
    /// Unknown names are skipped.
    /// </summary>
    public IReadOnlyList<ChartSeries> Load(long jobNumber, IReadOnlyCollection<string> names, int attempt = 0)
    {
        var wanted = names.Count > 0 ? names.Distinct().ToList() : scalars.Latest(jobNumber, attempt).Select(s => s.Name).ToList();
        var series = new List<ChartSeries>(wanted.Count);
        foreach (var name in wanted)
        {
            if (scalars.Overview(jobNumber, name, Downsampler.DefaultPoints, attempt) is not { Steps.Length: > 0 } overview)
            {
                continue;
            }
            var (steps, values) = overview;
            // The overview leaves NaN out; the chart marks where it was.
            var nan = scalars.NaNSteps(jobNumber, name, Downsampler.DefaultPoints, attempt);
            if (nan.Count > 0)
            {
                var points = steps.Zip(values).Concat(nan.Select(s => (First: (double)s, Second: double.NaN))).OrderBy(p => p.First).ToArray();
                (steps, values) = (points.Select(p => p.First).ToArray(), points.Select(p => p.Second).ToArray());
            }
            series.Add(new ChartSeries(name, steps, values));
        }
        return series;
    }

    // A job with retries says whose attempt it draws.
    private static string Title(JobRecord job, int attempt) =>
        $"Job {job.Number}: {job.Name}" + (job.Retries > 0 && Math.Max(1, attempt > 0 ? attempt : job.Attempt) is var shown ? $" (attempt {shown})" : "");
}
