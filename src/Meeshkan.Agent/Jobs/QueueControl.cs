using Meeshkan.Agent.Gpus;
using Meeshkan.Agent.Scheduler;
using Meeshkan.Agent.Store;

namespace Meeshkan.Agent.Jobs;

/// <summary>
/// The queue as a whole: pause and resume, settings reloaded from `meeshkan setup`, what a submitted job may ask of
/// the GPUs, and the slots, GPUs and waiting reasons that `status` and `list` show.
/// </summary>
public sealed class QueueControl(QueueState state, GpuWatcher watcher, RunLoopInbox inbox)
{
    public void SetPaused(bool paused)
    {
        lock (state.Gate)
        {
            state.SetPaused(paused);
        }
        inbox.ResourcesChanged();
    }

    public void Reload() => watcher.Reload();

    /// <summary>
    /// The GPU request of a new job, checked against the GPUs this agent hands out: a request it could never satisfy
    /// is refused (<see cref="BeyondMachineException"/>), a malformed one too (<see cref="InvalidRequestException"/>).
    /// </summary>
    public GpuRequest Check(double gpus, IReadOnlyList<int> gpuIds)
    {
        GpuRequest request;
        try
        {
            var amount = gpus == 0 && gpuIds.Count > 0 ? (GpuAmount?)null : GpuAmount.FromValue(gpus);
            if (gpuIds.Distinct().Count() != gpuIds.Count || gpuIds.Any(i => i < 0))
            {
                throw new FormatException("--gpu-ids must name each GPU once, by its nvidia-smi index (like 0,2)");
            }
            request = GpuRequest.Of(amount, gpuIds.Count > 0 ? gpuIds : null);
        }
        catch (FormatException e)
        {
            throw new InvalidRequestException(e.Message);
        }
        lock (state.Gate)
        {
            if (state.Gpus.Impossible(request) is { } why)
            {
                throw new BeyondMachineException(why);
            }
        }
        return request;
    }

    /// <summary>Why a queued job waits ("waiting for 2 GPUs"), or null.</summary>
    public string? WhyWaiting(JobRecord job) => job.State == JobState.Queued || job.BetweenAttempts ? state.WhyWaiting(job.Number) : null;

    /// <summary>Slots, pause and the GPU table for `meeshkan status`.</summary>
    public (int Slots, int Running, bool Paused, long BusyMemoryMib, TimeSpan ReserveAfter, IReadOnlyList<(Gpu Gpu, bool Busy, IReadOnlyDictionary<long, int> Holders)> Gpus) Snapshot()
    {
        lock (state.Gate)
        {
            var gpus = state.Gpus.Indexes
                .Select(i => (state.Gpus.Describe(i), state.Gpus.IsForeignBusy(i), (IReadOnlyDictionary<long, int>)state.Gpus.Holders(i).ToDictionary()))
                .ToList();
            return (state.Slots, state.Running, state.Paused, state.BusyMemoryMib, state.ReserveAfter, gpus);
        }
    }
}
