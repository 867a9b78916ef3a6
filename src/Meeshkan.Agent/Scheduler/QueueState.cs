using Meeshkan.Agent.Config;
using Meeshkan.Agent.Gpus;
using Meeshkan.Agent.Store;

namespace Meeshkan.Agent.Scheduler;

/// <summary>
/// What the run loop decides with: the waiting jobs, the slots in use, the GPUs and who holds them, whether the queue
/// is paused, and the settings of `meeshkan setup` that govern them. The loop changes it; the services read it (status,
/// waiting reasons) under the same lock (<see cref="Gate"/>).
/// </summary>
public sealed class QueueState(AgentOptions options, TimeProvider time)
{
    public Lock Gate { get; } = new();

    public WaitingQueue Waiting { get; } = new();

    public GpuInventory Gpus { get; private set; } = GpuInventory.Empty;

    public int Slots { get; private set; } = 1;

    public bool Paused { get; private set; }

    public long BusyMemoryMib { get; private set; } = AgentConfig.DefaultGpuBusyMemoryMib;

    public TimeSpan ReserveAfter { get; private set; } = TimeSpan.FromSeconds(AgentConfig.DefaultReserveAfterSeconds);

    /// <summary>The running jobs' slots (MEESHKAN_SLOT), by job number.</summary>
    private readonly Dictionary<long, int> _slots = [];

    private string PausedMarker => Path.Combine(options.Home.Root, "queue-paused");

    public int Running => _slots.Count;

    public int FreeSlots => Math.Max(Slots - _slots.Count, 0);

    public DateTimeOffset Now => time.GetUtcNow();

    /// <summary>Reads the settings and the GPUs (nvidia-smi), keeping what running jobs hold. Call under <see cref="Gate"/>.</summary>
    public void Apply(AgentConfig config, IReadOnlyList<Gpu>? discovered)
    {
        Slots = Math.Max(config.Slots, 1);
        BusyMemoryMib = Math.Max(config.GpuBusyMemoryMib, 0);
        ReserveAfter = TimeSpan.FromSeconds(Math.Max(config.ReserveAfterSeconds, 0));
        var old = Gpus;
        Gpus = new GpuInventory(GpuSelection.Apply(config.Gpus, discovered));
        foreach (var index in old.Indexes)
        {
            foreach (var (job, share) in old.Holders(index))
            {
                Gpus.Restore(job, new GpuAmount(share), [index]);
            }
        }
        if (discovered is not null)
        {
            Gpus.Observe(discovered, BusyMemoryMib);
        }
        Paused = File.Exists(PausedMarker);
    }

    /// <summary>Pauses or resumes; kept in the data folder so that it survives a restart.</summary>
    public void SetPaused(bool paused)
    {
        if (paused)
        {
            File.WriteAllText(PausedMarker, "no new job starts until `meeshkan resume`\n");
        }
        else
        {
            File.Delete(PausedMarker);
        }
        Paused = paused;
    }

    public void AddWaiting(long number, int priority, int gpuQuarters, IReadOnlyList<int>? gpuIds, DateTimeOffset queuedAt, DateTimeOffset? notBefore = null) =>
        Waiting.Add(new WaitingJob(number, priority, new GpuRequest(new GpuAmount(gpuQuarters), gpuIds), queuedAt, notBefore));

    /// <summary>Waiting jobs held back by a dependency (submit --after, --after-any): the job each waits for.</summary>
    public Dictionary<long, long> WaitingFor { get; } = [];

    /// <summary>
    /// The gate before resources (<see cref="Admission.Next"/>'s ready): its dependencies are satisfied and, between
    /// attempts, its retry delay is over.
    /// </summary>
    public bool Ready(WaitingJob job) => !WaitingFor.ContainsKey(job.Number) && (job.NotBefore is not { } at || at <= Now);

    /// <summary>Gives a starting job the lowest free slot and its GPUs.</summary>
    public int Take(WaitingJob job, int[] gpus)
    {
        Waiting.Remove(job.Number);
        WaitingFor.Remove(job.Number);
        var slot = 0;
        while (_slots.ContainsValue(slot))
        {
            slot++;
        }
        _slots[job.Number] = slot;
        if (gpus.Length > 0)
        {
            Gpus.Take(job.Number, job.Gpus.Amount, gpus);
        }
        return slot;
    }

    /// <summary>A job that runs (re-attached after a restart) keeps the slot and GPUs recorded for it.</summary>
    public void Restore(JobRecord job)
    {
        var slot = job.Slot ?? 0;
        while (_slots.ContainsValue(slot))
        {
            slot++;
        }
        _slots[job.Number] = slot;
        if (job.Gpus is { Count: > 0 } gpus)
        {
            Gpus.Restore(job.Number, new GpuAmount(job.GpuQuarters), gpus);
        }
    }

    /// <summary>Frees what an ended (or never started) job held.</summary>
    public void Release(long number)
    {
        _slots.Remove(number);
        Gpus.Release(number);
    }

    /// <summary>Why a queued job has not started yet, or null when the loop does not know it (yet). Takes the lock.</summary>
    public string? WhyWaiting(long number)
    {
        lock (Gate)
        {
            if (Waiting.Get(number) is not { } job)
            {
                return null;
            }
            if (WaitingFor.TryGetValue(number, out var on))
            {
                return $"waiting for job {on}";
            }
            if (job.NotBefore is { } at && at > Now)
            {
                return $"retrying in {JobDuration.Format(TimeSpan.FromSeconds(Math.Ceiling((at - Now).TotalSeconds)))}";
            }
            var kept = Admission.Overdue(Waiting, Gpus, Now, ReserveAfter, Ready);
            return Admission.WhyWaiting(job, Running, Slots, Gpus, Paused, kept);
        }
    }

    /// <summary>Whether any waiting job asks for GPUs (then their state is re-read from nvidia-smi now and then).</summary>
    public bool AnyWaitingForGpus => Waiting.Groups.Any(g => g.Min!.Gpus.Any);
}
