namespace Meeshkan.Agent.Gpus;

/// <summary>
/// The GPUs the agent hands out and who holds what share of each. A GPU is cut in quarters: a whole-GPU job takes all
/// four, a 1/2 or 1/4 job two or one, so small jobs pack together and never share with a whole-GPU job. A GPU that a
/// process outside Meeshkan is using (<see cref="SetForeignBusy"/>) is handed to nobody. Not thread-safe: the
/// scheduler's loop owns it.
/// </summary>
public sealed class GpuInventory
{
    private readonly Dictionary<int, Slot> _gpus = [];
    private readonly List<int> _order;

    /// <param name="gpus">The GPUs to hand out, in the order of preference (<c>setup --gpus 3,1,0</c> prefers 3).</param>
    public GpuInventory(IEnumerable<Gpu> gpus)
    {
        _order = [];
        foreach (var gpu in gpus)
        {
            if (_gpus.TryAdd(gpu.Index, new Slot(gpu)))
            {
                _order.Add(gpu.Index);
            }
        }
    }

    public static GpuInventory Empty { get; } = new([]);

    /// <summary>The GPU indexes, in the order of preference.</summary>
    public IReadOnlyList<int> Indexes => _order;

    public int Count => _order.Count;

    public bool Contains(int index) => _gpus.ContainsKey(index);

    public Gpu Describe(int index) => _gpus[index].Gpu;

    /// <summary>The jobs holding a share of this GPU, and the share (in quarters).</summary>
    public IReadOnlyDictionary<long, int> Holders(int index) => _gpus[index].Holders;

    public bool IsForeignBusy(int index) => _gpus[index].ForeignBusy;

    /// <summary>Free quarters of the GPU (0 when a foreign process uses it, or the agent does not hand it out).</summary>
    public int FreeQuarters(int index) => _gpus.TryGetValue(index, out var s) && !s.ForeignBusy ? Math.Max(s.Free, 0) : 0;

    /// <summary>Why a request this inventory could never satisfy is refused, or null when it fits the machine.</summary>
    public string? Impossible(GpuRequest request)
    {
        if (!request.Any)
        {
            return null;
        }
        if (Count == 0)
        {
            return "this agent has no GPUs to hand out (none found, or `meeshkan setup --gpus none`): submit without --gpus";
        }
        if (request.Ids is { } ids)
        {
            var missing = ids.Where(i => !Contains(i)).ToList();
            if (missing.Count > 0)
            {
                return $"--gpu-ids {string.Join(',', missing)}: this agent has GPUs {string.Join(',', _order)} (see `meeshkan status`)";
            }
        }
        return request.Amount.Whole > Count
            ? $"--gpus {request.Amount} is more than the {Count} GPU{(Count == 1 ? "" : "s")} this agent hands out (see `meeshkan status`)"
            : null;
    }

    /// <summary>
    /// The GPUs that would be given to this request now, or null when it has to wait. GPUs in
    /// <paramref name="kept"/> are not offered (kept for a job that has waited too long). Changes nothing.
    /// </summary>
    public int[]? Fit(GpuRequest request, IReadOnlySet<int>? kept = null)
    {
        if (!request.Any)
        {
            return [];
        }
        IReadOnlyList<int> candidates = request.Ids ?? _order;
        if (kept is { Count: > 0 })
        {
            candidates = candidates.Where(i => !kept.Contains(i)).ToList();
        }
        if (request.Amount.IsFraction)
        {
            // Best fit: the GPU with the least room that still fits, so that whole GPUs stay whole; ties in order.
            int best = -1, bestFree = int.MaxValue;
            foreach (var index in candidates)
            {
                var free = FreeQuarters(index);
                if (free >= request.Amount.Quarters && free < bestFree)
                {
                    (best, bestFree) = (index, free);
                }
            }
            return best < 0 ? null : [best];
        }
        var chosen = new int[request.Amount.Whole];
        var n = 0;
        foreach (var index in candidates)
        {
            if (n < chosen.Length && FreeQuarters(index) == 4)
            {
                chosen[n++] = index;
            }
        }
        return n == chosen.Length ? chosen : null;
    }

    /// <summary>Gives <paramref name="job"/> its GPUs. Throws if any of them has not that much room (a bug).</summary>
    public void Take(long job, GpuAmount amount, IReadOnlyList<int> gpus)
    {
        var share = amount.IsFraction ? amount.Quarters : 4;
        foreach (var index in gpus)
        {
            var slot = _gpus[index];
            if (slot.Free < share || slot.Holders.ContainsKey(job))
            {
                throw new InvalidOperationException($"GPU {index} has {slot.Free}/4 free; job {job} asked for {share}/4");
            }
        }
        foreach (var index in gpus)
        {
            var slot = _gpus[index];
            slot.Holders[job] = share;
            slot.Free -= share;
        }
    }

    /// <summary>
    /// Gives back a job's GPUs as recorded (after an agent restart, or a GPU no longer handed out): shares on GPUs this
    /// inventory does not have are dropped, and a GPU already full is over-committed rather than lose the record.
    /// </summary>
    public void Restore(long job, GpuAmount amount, IReadOnlyList<int> gpus)
    {
        var share = amount.IsFraction ? amount.Quarters : 4;
        foreach (var index in gpus)
        {
            if (_gpus.TryGetValue(index, out var slot) && slot.Holders.TryAdd(job, share))
            {
                slot.Free -= share;
            }
        }
    }

    /// <summary>Frees what the job held; nothing when it held nothing.</summary>
    public void Release(long job)
    {
        foreach (var slot in _gpus.Values)
        {
            if (slot.Holders.Remove(job, out var share))
            {
                slot.Free += share;
            }
        }
    }

    /// <summary>
    /// Applies a fresh nvidia-smi reading: a GPU that no Meeshkan job holds and whose used memory is above
    /// <paramref name="busyMemoryMib"/> is busy with someone else's process. A GPU a job holds keeps its state (its
    /// memory is that job's). Returns whether any GPU became free or busy.
    /// </summary>
    public bool Observe(IReadOnlyList<Gpu> reading, long busyMemoryMib)
    {
        var changed = false;
        foreach (var gpu in reading)
        {
            if (!_gpus.TryGetValue(gpu.Index, out var slot))
            {
                continue;
            }
            slot.Gpu = gpu;
            if (slot.Holders.Count == 0)
            {
                changed |= SetForeignBusy(gpu.Index, gpu.MemoryUsedMib > busyMemoryMib);
            }
        }
        return changed;
    }

    /// <summary>Marks a GPU busy (or not) with a process Meeshkan did not start. Returns whether that changed.</summary>
    public bool SetForeignBusy(int index, bool busy)
    {
        var slot = _gpus[index];
        var changed = slot.ForeignBusy != busy;
        slot.ForeignBusy = busy;
        return changed;
    }

    public bool AnyForeignBusy => _gpus.Values.Any(s => s.ForeignBusy);

    private sealed class Slot(Gpu gpu)
    {
        public Gpu Gpu { get; set; } = gpu;
        public int Free { get; set; } = 4;
        public bool ForeignBusy { get; set; }
        public Dictionary<long, int> Holders { get; } = [];
    }
}
