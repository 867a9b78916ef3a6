using Meeshkan.Agent.Services;
using Meeshkan.Agent.Store;

namespace Meeshkan.Agent.Charts;

/// <summary>Charts a job's stored scalars (the <c>RenderChart</c> RPC, `report --plot`, and notifications).</summary>
public sealed class ScalarChartRenderer(ScalarStore scalars) : IChartRenderer
{
    public byte[] Render(JobRecord job, IReadOnlyCollection<string> names, int width, int height) =>
        ChartDrawer.DrawPng(Title(job), Load(job.Number, names), width, height);

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
            series.Add(new ChartSeries(name, steps, values));
        }
        return series;
    }

    public static string Title(JobRecord job) => $"Job {job.Number}: {job.Name}";
}
