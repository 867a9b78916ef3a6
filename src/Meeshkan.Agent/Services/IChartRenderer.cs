using Meeshkan.Agent.Store;

namespace Meeshkan.Agent.Services;

/// <summary>Draws a job's scalars as a PNG line chart.</summary>
public interface IChartRenderer
{
    /// <param name="names">Scalars to draw; empty means all.</param>
    /// <param name="logY">A logarithmic value axis.</param>
    /// <param name="attempt">Whose scalars (submit --retries: each attempt has its own); 0: the latest attempt's.</param>
    byte[] Render(JobRecord job, IReadOnlyCollection<string> names, int width, int height, bool logY = false, int attempt = 0);
}
