using Meeshkan.Agent.Gpus;

namespace Meeshkan.Agent.Scheduler;

/// <summary>
/// The queued jobs, kept in the orders the policy reads: the queue's order (higher priority first, then first in,
/// first out), age (oldest first, for the starvation rule), and grouped by what they ask of the GPUs (jobs asking the
/// same can only start in queue order, so the policy looks at the head of each group, not at every job). Adding or
/// removing a job is O(log n). Not thread-safe: the scheduler's loop owns it.
/// </summary>
public sealed class WaitingQueue
{
    /// <summary>Higher priority first; first in, first out among equals.</summary>
    public static readonly Comparer<WaitingJob> QueueOrder = Comparer<WaitingJob>.Create((a, b) =>
        a.Priority != b.Priority ? b.Priority.CompareTo(a.Priority) : a.Number.CompareTo(b.Number));

    private readonly SortedDictionary<long, WaitingJob> _byNumber = [];
    private readonly Dictionary<string, SortedSet<WaitingJob>> _byRequest = [];

    public int Count => _byNumber.Count;

    /// <summary>Oldest first (job numbers grow with submission time).</summary>
    public IEnumerable<WaitingJob> ByAge => _byNumber.Values;

    /// <summary>Every job in the queue's order (for listings and tests; the policy reads <see cref="Groups"/>).</summary>
    public IEnumerable<WaitingJob> InOrder => _byNumber.Values.Order(QueueOrder);

    /// <summary>The jobs grouped by identical GPU requests, each group in the queue's order.</summary>
    public IEnumerable<SortedSet<WaitingJob>> Groups => _byRequest.Values;

    public bool Contains(long number) => _byNumber.ContainsKey(number);

    public WaitingJob? Get(long number) => _byNumber.GetValueOrDefault(number);

    public void Add(WaitingJob job)
    {
        if (!_byNumber.TryAdd(job.Number, job))
        {
            return;
        }
        var key = Key(job.Gpus);
        if (!_byRequest.TryGetValue(key, out var group))
        {
            _byRequest[key] = group = new SortedSet<WaitingJob>(QueueOrder);
        }
        group.Add(job);
    }

    public bool Remove(long number)
    {
        if (!_byNumber.Remove(number, out var job))
        {
            return false;
        }
        var key = Key(job.Gpus);
        var group = _byRequest[key];
        group.Remove(job);
        if (group.Count == 0)
        {
            _byRequest.Remove(key);
        }
        return true;
    }

    private static string Key(GpuRequest request) =>
        request.Ids is { } ids ? $"{request.Amount.Quarters}:{string.Join(',', ids)}" : request.Amount.Quarters.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
