using Meeshkan.Agent.Services;
using Meeshkan.Agent.Store;

namespace Meeshkan.Agent.Charts;

/// <summary>Charts a job's stored scalars (the <c>RenderChart</c> RPC, `report --plot`, and notifications).</summary>
public sealed class ScalarChartRenderer(ScalarStore scalars) : IChartRenderer
{
    public byte[] Render(JobRecord job, IReadOnlyCollection<string> names, int width, int height, bool logY = false) =>
        ChartDrawer.DrawPng(Title(job), Load(job.Number, names), width, height, logY);

    /// <summary>The job's series, by name; all of them when <paramref name="names"/> is empty. Unknown names are skipped.</summary>
    public IReadOnlyList<ChartSeries> Load(long jobNumber, IReadOnlyCollection<string> names)
    {
        var wanted = names.Count > 0 ? names.Distinct().ToList() : scalars.Latest(jobNumber).Select(s => s.Name).ToList();
        var series = new List<ChartSeries>(wanted.Count);
        foreach (var name in wanted)
        {
            if (scalars.Overview(jobNumber, name, Downsampler.DefaultPoints) is not { Steps.Length: > 0 } overview)
            {
                continue;
            }
            var (steps, values) = overview;
            // The overview leaves NaN out; the chart marks where it was.
            var nan = scalars.NaNSteps(jobNumber, name, Downsampler.DefaultPoints);
            if (nan.Count > 0)
            {
                var points = steps.Zip(values).Concat(nan.Select(s => (First: (double)s, Second: double.NaN))).OrderBy(p => p.First).ToArray();
                (steps, values) = (points.Select(p => p.First).ToArray(), points.Select(p => p.Second).ToArray());
            }
            series.Add(new ChartSeries(name, steps, values));
        }
        return series;
    }

    private static string Title(JobRecord job) => $"Job {job.Number}: {job.Name}";
}
