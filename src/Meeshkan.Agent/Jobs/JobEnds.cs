using Meeshkan.Agent.Store;

namespace Meeshkan.Agent.Jobs;

/// <summary>
/// Lets callers wait for jobs to end (`meeshkan wait`): told of each end as it is recorded, so a waiter wakes at
/// once, without polling the store. A job waiting for its next attempt has not ended. A caller waiting for many jobs
/// is woken once, when the last of them ends, not at each end (`meeshkan wait` of 500 jobs cost the agent a thread
/// hop and a read a job).
/// </summary>
public sealed class JobEnds(JobStore store) : IAgentObserver
{
    private readonly Lock _gate = new();
    private readonly Dictionary<long, List<Waiter>> _waiting = [];

    /// <summary>One caller's jobs: how they ended, as they end; done when all <paramref name="count"/> have.</summary>
    private sealed class Waiter(int count)
    {
        public int Count { get; } = count;
        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public Dictionary<long, JobRecord> Ended { get; } = new(count);
    }

    public void JobEnded(JobRecord job)
    {
        if (!job.IsEnded)
        {
            return;
        }
        List<Waiter>? waiters;
        lock (_gate)
        {
            if (!_waiting.Remove(job.Number, out waiters))
            {
                return;
            }
        }
        foreach (var waiter in waiters)
        {
            Note(waiter, job);
        }
    }

    /// <summary>The jobs as they ended, in the order asked: at once for those that have, else as their ends are recorded.</summary>
    public async Task<IReadOnlyList<JobRecord>> WhenEndedAsync(IReadOnlyList<long> numbers, CancellationToken cancel)
    {
        var distinct = numbers.Distinct().ToList();
        var waiter = new Waiter(distinct.Count);
        lock (_gate)
        {
            foreach (var number in distinct)
            {
                if (!_waiting.TryGetValue(number, out var list))
                {
                    _waiting[number] = list = [];
                }
                list.Add(waiter);
            }
        }
        try
        {
            // Read after registering: an end recorded in between is noted either way (Note counts each job once).
            foreach (var number in distinct)
            {
                var now = store.GetByNumber(number) ?? throw new InvalidOperationException($"job {number} was removed while waited for");
                if (now.IsEnded)
                {
                    Note(waiter, now);
                }
            }
            await waiter.Done.Task.WaitAsync(cancel).ConfigureAwait(false);
        }
        finally
        {
            lock (_gate)
            {
                foreach (var number in distinct)
                {
                    if (_waiting.TryGetValue(number, out var list) && list.Remove(waiter) && list.Count == 0)
                    {
                        _waiting.Remove(number);
                    }
                }
            }
        }
        lock (waiter)
        {
            return numbers.Select(n => waiter.Ended[n]).ToList();
        }
    }

    private static void Note(Waiter waiter, JobRecord job)
    {
        lock (waiter)
        {
            if (waiter.Ended.TryAdd(job.Number, job) && waiter.Ended.Count == waiter.Count)
            {
                waiter.Done.TrySetResult();
            }
        }
    }
}
