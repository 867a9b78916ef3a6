using Meeshkan.Agent.Store;

namespace Meeshkan.Agent.Services;

/// <summary>Draws a job's scalars as a PNG line chart.</summary>
public interface IChartRenderer
{
    /// <param name="names">Scalars to draw; empty means all.</param>
    /// <param name="logY">A logarithmic value axis.</param>
    byte[] Render(JobRecord job, IReadOnlyCollection<string> names, int width, int height, bool logY = false);
}
