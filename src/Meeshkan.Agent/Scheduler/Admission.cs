using Meeshkan.Agent.Gpus;

namespace Meeshkan.Agent.Scheduler;

/// <summary>A job the policy lets start, and the GPUs it gets.</summary>
public readonly record struct Admitted(WaitingJob Job, int[] Gpus);

/// <summary>
/// Which queued job starts next, given the free slots and GPUs: a pure function of its inputs (pueue's
/// get_next_task_id), tested without processes. The rule, as the README states it:
/// <list type="number">
/// <item>Higher <c>--priority</c> first; first in, first out among equals.</item>
/// <item>Backfill: a job that cannot start yet (its GPUs are taken) does not hold up the jobs behind it that can.</item>
/// <item>No job waits forever: once a job has waited longer than <c>reserve-after</c> (default 10 minutes), it goes
/// ahead of every other job, oldest first; and when the oldest such job cannot start, what it waits for is kept for
/// it: one slot, and the GPUs it may use. Jobs behind it start only with what is left (a job without GPUs, while more
/// than one slot is free). As jobs end, its GPUs free up and nobody else takes them.</item>
/// </list>
/// </summary>
public static class Admission
{
    /// <param name="ready">Other gates (dependencies): a job for which it is false is not considered at all.</param>
    public static Admitted? Next(WaitingQueue queue, int freeSlots, GpuInventory gpus, DateTimeOffset now, TimeSpan reserveAfter,
        Func<WaitingJob, bool>? ready = null)
    {
        if (freeSlots <= 0 || queue.Count == 0)
        {
            return null;
        }
        var overdue = now - reserveAfter;
        WaitingJob? keptFor = null;
        foreach (var job in queue.ByAge)
        {
            if (job.QueuedAt > overdue)
            {
                break;
            }
            if (ready?.Invoke(job) == false || gpus.Impossible(job.Gpus) is not null)
            {
                continue;
            }
            if (gpus.Fit(job.Gpus) is { } fit)
            {
                return new Admitted(job, fit);
            }
            keptFor = job;
            break;
        }
        var kept = keptFor is null ? null : Kept(keptFor, gpus);
        var slots = keptFor is null ? freeSlots : freeSlots - 1;
        if (slots <= 0)
        {
            return null;
        }
        // Jobs that ask the same of the GPUs start in queue order: one fit per group, then the best head of all groups.
        Admitted? best = null;
        foreach (var group in queue.Groups)
        {
            if (gpus.Fit(group.Min!.Gpus, kept) is not { } fit)
            {
                continue;
            }
            foreach (var job in group)
            {
                if (best is { } b && WaitingQueue.QueueOrder.Compare(job, b.Job) > 0)
                {
                    break;
                }
                if (!ReferenceEquals(job, keptFor) && ready?.Invoke(job) != false)
                {
                    best = new Admitted(job, fit);
                    break;
                }
            }
        }
        return best;
    }

    /// <summary>The GPUs kept for an overdue job: those it may use.</summary>
    public static HashSet<int> Kept(WaitingJob job, GpuInventory gpus) =>
        job.Gpus.Any ? [.. job.Gpus.Ids ?? gpus.Indexes] : [];

    /// <summary>The job kept for by the starvation rule now, if any (see <see cref="Next"/>).</summary>
    public static WaitingJob? Overdue(WaitingQueue queue, GpuInventory gpus, DateTimeOffset now, TimeSpan reserveAfter,
        Func<WaitingJob, bool>? ready = null)
    {
        var overdue = now - reserveAfter;
        foreach (var job in queue.ByAge)
        {
            if (job.QueuedAt > overdue)
            {
                return null;
            }
            if (ready?.Invoke(job) != false && gpus.Impossible(job.Gpus) is null)
            {
                return gpus.Fit(job.Gpus) is null ? job : null;
            }
        }
        return null;
    }

    /// <summary>Why a queued job has not started, in the user's words ("waiting for 2 GPUs").</summary>
    public static string WhyWaiting(WaitingJob job, int running, int slots, GpuInventory gpus, bool paused, WaitingJob? keptFor)
    {
        var freeSlots = Math.Max(slots - running, 0);
        if (paused)
        {
            return "paused: `meeshkan resume` starts jobs again";
        }
        if (gpus.Impossible(job.Gpus) is not null)
        {
            return $"cannot start: it asks for {job.Gpus.Describe()}, more than this agent hands out (`meeshkan status`; cancel it or `setup --gpus`)";
        }
        if (keptFor is not null && keptFor != job && (job.Gpus.Any || freeSlots <= 1)
            && (!job.Gpus.Any || job.Gpus.Ids is null || job.Gpus.Ids.Any(Kept(keptFor, gpus).Contains)))
        {
            return $"waiting: resources kept for job {keptFor.Number}, which has waited longest";
        }
        if (job.Gpus.Any && gpus.Fit(job.Gpus) is null)
        {
            var busy = (job.Gpus.Ids ?? gpus.Indexes).Where(gpus.IsForeignBusy).ToList();
            return $"waiting for {job.Gpus.Describe()}" + (busy.Count == 0 ? ""
                : busy.Count == 1 ? $" (GPU {busy[0]} is busy with a process outside Meeshkan)"
                : $" (GPUs {string.Join(',', busy)} are busy with processes outside Meeshkan)");
        }
        // After `setup --slots` lowered the count, more may run than there are slots: say both ("2 running, 1 slot").
        return freeSlots <= 0 ? $"waiting for a free slot ({running} running, {slots} slot{(slots == 1 ? "" : "s")})" : "waiting for its turn";
    }
}
