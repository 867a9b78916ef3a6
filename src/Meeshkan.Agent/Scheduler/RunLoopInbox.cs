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

    /// <summary>A job's end was recorded: its dependants may start or fail.</summary>
    internal sealed record JobEndedSignal(long Number, JobState State, string? Reason) : Signal;

    /// <summary>A timeout or a retry delay fell due (Deadlines).</summary>
    internal sealed record DeadlineDueSignal(long Number, DeadlineKind Kind) : Signal;

    /// <summary>The full disk refused an end (EndRecorder): no job starts until it is written.</summary>
    internal sealed record EndsNotRecordedSignal : Signal;

    /// <summary>A stop condition of a running job was met (submit --stop-if).</summary>
    internal sealed record StopRunning(long Number, string Reason) : Signal;

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

    /// <summary>A job's end was recorded.</summary>
    public void JobEnded(long number, JobState state, string? reason) => _signals.Writer.TryWrite(new JobEndedSignal(number, state, reason));

    /// <summary>The full disk refused the end of a job.</summary>
    public void EndsNotRecorded() => _signals.Writer.TryWrite(new EndsNotRecordedSignal());

    /// <summary>A deadline fell due.</summary>
    public void DeadlineDue(long number, DeadlineKind kind) => _signals.Writer.TryWrite(new DeadlineDueSignal(number, kind));

    /// <summary>Asks the loop to stop a running job because a stop condition was met; <paramref name="reason"/> is recorded.</summary>
    public void StopRunningJob(long number, string reason) => _signals.Writer.TryWrite(new StopRunning(number, reason));

    public void Exited(JobExit exit)
    {
        Interlocked.Increment(ref _endsWaiting);
        _signals.Writer.TryWrite(new Ended(exit));
    }

    // Ends posted and not yet read by the loop: while one waits, the loop starts the next job before it records more ends.
    private int _endsWaiting;

    /// <summary>An end is waiting to be read: a slot is free, and the loop should fill it before recording more ends.</summary>
    internal bool EndsWaiting => Volatile.Read(ref _endsWaiting) > 0;

    /// <summary>The loop read an end.</summary>
    internal void EndRead() => Interlocked.Decrement(ref _endsWaiting);

    public void StateChanged(long number, string executorState) => _signals.Writer.TryWrite(new ExecutorStateChanged(number, executorState));
}
