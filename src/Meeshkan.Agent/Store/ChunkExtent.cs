using Microsoft.Data.Sqlite;

namespace Meeshkan.Agent.Store;

/// <summary>
/// A stored chunk's range of steps and times and its lowest and highest point, kept next to its blobs so a chart
/// reads one row per chunk instead of its every point. Lo and hi are null when the chunk holds only NaN.
/// </summary>
internal readonly record struct ChunkExtent(
    long MinStep, long MaxStep, long MinTime, long MaxTime,
    double? Lo, long LoStep, long LoTime, double? Hi, long HiStep, long HiTime)
{
    public static readonly string[] ParameterNames =
        ["$minStep", "$maxStep", "$minTime", "$maxTime", "$lo", "$loStep", "$loTime", "$hi", "$hiStep", "$hiTime"];

    public static ChunkExtent Of(ReadOnlySpan<long> steps, ReadOnlySpan<double> values, ReadOnlySpan<long> times)
    {
        long minStep = long.MaxValue, maxStep = long.MinValue, minTime = long.MaxValue, maxTime = long.MinValue;
        int lo = -1, hi = -1;
        for (var i = 0; i < values.Length; i++)
        {
            minStep = Math.Min(minStep, steps[i]);
            maxStep = Math.Max(maxStep, steps[i]);
            minTime = Math.Min(minTime, times[i]);
            maxTime = Math.Max(maxTime, times[i]);
            var value = values[i];
            if (!double.IsFinite(value))
            {
                continue;
            }
            if (lo < 0 || value < values[lo])
            {
                lo = i;
            }
            if (hi < 0 || value > values[hi])
            {
                hi = i;
            }
        }
        return lo < 0
            ? new ChunkExtent(minStep, maxStep, minTime, maxTime, null, 0, 0, null, 0, 0)
            : new ChunkExtent(minStep, maxStep, minTime, maxTime, values[lo], steps[lo], times[lo], values[hi], steps[hi], times[hi]);
    }

    /// <summary>Sets the insert's parameters named <see cref="ParameterNames"/>, in that order.</summary>
    public void Bind(SqliteParameter[] parameters)
    {
        object?[] values = [MinStep, MaxStep, MinTime, MaxTime, Lo, LoStep, LoTime, Hi, HiStep, HiTime];
        for (var i = 0; i < values.Length; i++)
        {
            parameters[i].Value = values[i] ?? DBNull.Value;
        }
    }
}
