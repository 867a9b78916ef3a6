using System.Threading.Channels;
using Meeshkan.Agent.Executors;

namespace Meeshkan.Agent.Scheduler;

/// <summary>
/// Everything the run loop reacts to, in the order it happened: jobs were queued, a job ended (from any executor,
/// on any thread), a cancel. The loop alone reads it, so its map of running jobs needs no lock, no store write
/// happens on an executor's thread, and a cancel falls between two starts, never inside one.
/// </summary>
public sealed class RunLoopInbox : IExecutorEvents
{
    internal abstract record Signal;

    /// <summary>Jobs were queued.</summary>
    internal sealed record JobsQueuedSignal : Signal;

    internal sealed record Ended(JobExit Exit) : Signal;

    internal sealed record ExecutorStateChanged(long Number, string State) : Signal;

    /// <summary>Slots, GPUs or pause changed (QueueState): what fits may have changed.</summary>
    internal sealed record ResourcesChangedSignal : Signal;

    internal sealed record Cancel(long Number, TimeSpan Grace, TaskCompletionSource<bool> Done) : Signal;

    private readonly Channel<Signal> _signals = Channel.CreateUnbounded<Signal>(new UnboundedChannelOptions { SingleReader = true });

    internal ChannelReader<Signal> Reader => _signals.Reader;

    /// <summary>Jobs were queued.</summary>
    public void JobsQueued() => _signals.Writer.TryWrite(new JobsQueuedSignal());

    /// <summary>Slots, GPUs or pause changed: the loop looks again at what can start.</summary>
    public void ResourcesChanged() => _signals.Writer.TryWrite(new ResourcesChangedSignal());

    /// <summary>
    /// Asks the loop to cancel a job: a queued one never starts, a running one is stopped by its executor (SIGTERM,
    /// then SIGKILL after <paramref name="grace"/>). True once its end is recorded, false when it neither waits nor runs here.
    /// </summary>
    public Task<bool> CancelAsync(long number, TimeSpan grace)
    {
        var done = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        _signals.Writer.TryWrite(new Cancel(number, grace, done));
        return done.Task;
    }

    public void Exited(JobExit exit) => _signals.Writer.TryWrite(new Ended(exit));

    public void StateChanged(long number, string executorState) => _signals.Writer.TryWrite(new ExecutorStateChanged(number, executorState));
}
