using System.Collections.Concurrent;
using Meeshkan.Agent.Store;

namespace Meeshkan.Agent.Jobs;

/// <summary>
/// Lets callers wait for jobs to end (`meeshkan wait`): told of each end as it is recorded, so a waiter wakes at
/// once, without polling the store. A job waiting for its next attempt has not ended.
/// </summary>
public sealed class JobEnds(JobStore store) : IAgentObserver
{
    private readonly ConcurrentDictionary<long, TaskCompletionSource<JobRecord>> _waiting = new();

    public void JobEnded(JobRecord job)
    {
        if (_waiting.TryRemove(job.Number, out var waiter))
        {
            waiter.TrySetResult(job);
        }
    }

    /// <summary>The job as it ended: at once when it has, else when its end is recorded.</summary>
    public async Task<JobRecord> WhenEndedAsync(long number, CancellationToken cancel)
    {
        while (true)
        {
            var waiter = _waiting.GetOrAdd(number, _ => new TaskCompletionSource<JobRecord>(TaskCreationOptions.RunContinuationsAsynchronously));
            // Read after registering: an end recorded in between completes the waiter or shows here.
            var now = store.GetByNumber(number);
            if (now is null || now.IsEnded)
            {
                return now ?? throw new InvalidOperationException($"job {number} was removed while waited for");
            }
            var ended = await waiter.Task.WaitAsync(cancel).ConfigureAwait(false);
            if (ended.IsEnded)
            {
                return ended;
            }
        }
    }
}
