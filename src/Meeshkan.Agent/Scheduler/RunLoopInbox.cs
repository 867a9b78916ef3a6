using System.Threading.Channels;
using Meeshkan.Agent.Executors;

namespace Meeshkan.Agent.Scheduler;

/// <summary>
/// Everything the run loop reacts to, in the order it happened: the queue changed, a job ended (from any executor,
/// on any thread), a cancel of a running job. The loop alone reads it, so its map of running jobs needs no lock and
/// no store write happens on an executor's thread.
/// </summary>
public sealed class RunLoopInbox : IExecutorEvents
{
    internal abstract record Signal;

    /// <summary>Jobs were added (<paramref name="Reordered"/>: a queued job left the queue, e.g. canceled).</summary>
    internal sealed record QueueChanged(bool Reordered) : Signal;

    internal sealed record Ended(JobExit Exit) : Signal;

    internal sealed record ExecutorStateChanged(long Number, string State) : Signal;

    /// <summary>Slots, GPUs or pause changed (QueueState): what fits may have changed.</summary>
    internal sealed record ResourcesChangedSignal : Signal;

    internal sealed record CancelRunning(long Number, TimeSpan Grace, TaskCompletionSource<bool> Done) : Signal;

    private readonly Channel<Signal> _signals = Channel.CreateUnbounded<Signal>(new UnboundedChannelOptions { SingleReader = true });

    internal ChannelReader<Signal> Reader => _signals.Reader;

    /// <summary>Jobs were queued.</summary>
    public void JobsQueued() => _signals.Writer.TryWrite(new QueueChanged(false));

    /// <summary>A queued job left the queue without running.</summary>
    public void JobDequeued() => _signals.Writer.TryWrite(new QueueChanged(true));

    /// <summary>Slots, GPUs or pause changed: the loop looks again at what can start.</summary>
    public void ResourcesChanged() => _signals.Writer.TryWrite(new ResourcesChangedSignal());

    /// <summary>Asks the loop to stop a running job; true once its end is recorded, false when it does not run here.</summary>
    public Task<bool> CancelRunningAsync(long number, TimeSpan grace)
    {
        var done = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        _signals.Writer.TryWrite(new CancelRunning(number, grace, done));
        return done.Task;
    }

    public void Exited(JobExit exit) => _signals.Writer.TryWrite(new Ended(exit));

    public void StateChanged(long number, string executorState) => _signals.Writer.TryWrite(new ExecutorStateChanged(number, executorState));
}
