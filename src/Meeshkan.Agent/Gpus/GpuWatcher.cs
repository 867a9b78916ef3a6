using Meeshkan.Agent.Config;
using Meeshkan.Agent.Scheduler;
using Microsoft.Extensions.Hosting;

namespace Meeshkan.Agent.Gpus;

/// <summary>
/// Re-reads nvidia-smi off the run loop: at once when a job ends (its GPU may be taken by a foreign process meanwhile),
/// and every <see cref="Interval"/> while jobs wait for GPUs (a foreign process may have freed one). Tells the loop
/// when a GPU became free or busy. A job's GPU goes to the next job at its exit without waiting for this reading.
/// </summary>
public sealed class GpuWatcher(QueueState state, RunLoopInbox inbox, AgentOptions options) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);

    private readonly SemaphoreSlim _now = new(0);

    /// <summary>Asks for a reading soon (a job ended); nothing where there are no GPUs to read.</summary>
    public void ReadSoon()
    {
        bool any;
        lock (state.Gate)
        {
            any = state.Gpus.Count > 0;
        }
        if (any && _now.CurrentCount == 0)
        {
            _now.Release();
        }
    }

    /// <summary>The GPUs as the settings select them, read now: for start-up and `setup` reloads.</summary>
    public static IReadOnlyList<Gpu>? Discover() => NvidiaSmi.Query(TimeSpan.FromSeconds(10));

    /// <summary>Reads the config file and nvidia-smi, and applies both (a running agent after `meeshkan setup`).</summary>
    public void Reload()
    {
        var config = AgentConfig.Load(options.Home.ConfigPath);
        var gpus = config.Gpus == GpuSelection.None ? null : Discover();
        lock (state.Gate)
        {
            state.Apply(config, gpus);
        }
        inbox.ResourcesChanged();
    }

    protected override async Task ExecuteAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            bool asked;
            try
            {
                asked = await _now.WaitAsync(Interval, stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            bool wanted;
            lock (state.Gate)
            {
                wanted = state.Gpus.Count > 0 && (state.AnyWaitingForGpus || state.Gpus.AnyForeignBusy);
            }
            var changed = false;
            if (wanted && await Task.Run(Discover, stopping).ConfigureAwait(false) is { } reading)
            {
                lock (state.Gate)
                {
                    changed = state.Gpus.Observe(reading, state.BusyMemoryMib);
                }
            }
            // Also the clock (at each tick: an end that asked for this reading wakes the run loop itself): a job may have
            // waited long enough now for the starvation rule.
            if (changed || (!asked && state.Waiting.Count > 0))
            {
                inbox.ResourcesChanged();
            }
        }
    }
}
