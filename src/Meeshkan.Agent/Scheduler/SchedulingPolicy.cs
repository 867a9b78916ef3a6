using Meeshkan.Agent.Store;

namespace Meeshkan.Agent.Scheduler;

/// <summary>What is free to run jobs on right now. The parallel-jobs work adds GPUs here.</summary>
public sealed record FreeResources(int Slots);

/// <summary>
/// Which queued job starts next: a pure function of the queue and what is free, so it is tested without a process
/// (modelled on pueue's get_next_task_id). Today: the oldest queued job, when a slot is free. Dependencies, GPUs
/// and priorities are further filters and orderings here.
/// </summary>
public static class SchedulingPolicy
{
    /// <param name="queue">Queued jobs, as the store lists them (oldest first).</param>
    public static JobRecord? PickNext(IReadOnlyList<JobRecord> queue, FreeResources free)
    {
        if (free.Slots <= 0)
        {
            return null;
        }
        JobRecord? next = null;
        foreach (var job in queue)
        {
            if (job.State == JobState.Queued && (next is null || job.Number < next.Number))
            {
                next = job;
            }
        }
        return next;
    }
}
