using System.Runtime;
using Microsoft.Extensions.Hosting;

namespace Meeshkan.Agent.Hosting;

/// <summary>
/// Gives the memory of a burst back once the burst is over. The agent lives for weeks and is mostly idle; a burst (10,000
/// jobs submitted in ten calls, a dashboard drawing a long history) leaves tens of MB of garbage in the GC's older
/// generations, which no later allocation comes to collect while the agent idles: with 10,000 jobs waiting the heap
/// held 55 MB of which under 4 MB was alive. Each second the trimmer reads how much the agent has allocated (a counter,
/// no collection); when at least <see cref="Burst"/> was allocated since the last trim and the last second was quiet
/// (under <see cref="Quiet"/>), it runs one compacting collection that returns the freed memory to the system. A busy
/// agent is never trimmed mid-burst, and an idle one pays a read of a counter a second.
/// </summary>
public sealed class MemoryTrimmer(TimeProvider time) : BackgroundService
{
    public const long Burst = 16 * 1024 * 1024;

    public const long Quiet = 1024 * 1024;

    private static readonly TimeSpan Every = TimeSpan.FromSeconds(1);

    private long _lastTrim = GC.GetTotalAllocatedBytes();

    private long _lastTick = GC.GetTotalAllocatedBytes();

    /// <summary>Whether to trim now, given the bytes allocated so far: pure, for the tests.</summary>
    public static bool ShouldTrim(long allocated, long atLastTick, long atLastTrim) =>
        allocated - atLastTrim >= Burst && allocated - atLastTick < Quiet;

    protected override async Task ExecuteAsync(CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(Every, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stopping).ConfigureAwait(false))
            {
                var allocated = GC.GetTotalAllocatedBytes();
                if (ShouldTrim(allocated, _lastTick, _lastTrim))
                {
                    GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
                    GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
                    allocated = GC.GetTotalAllocatedBytes();
                    _lastTrim = allocated;
                }
                _lastTick = allocated;
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
