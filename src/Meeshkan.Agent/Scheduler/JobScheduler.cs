using Meeshkan.Agent.Executors;
using Meeshkan.Agent.Gpus;
using Meeshkan.Agent.Jobs;
using Meeshkan.Agent.Store;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Meeshkan.Agent.Scheduler;

/// <summary>
/// The run loop: starts what <see cref="Admission"/> picks while slots are free (and the queue is not paused), on
/// the executor that runs the job, with the GPUs and slot it picked, and records each end it hears of through
/// <see cref="RunLoopInbox"/>. It holds the map of running jobs; every state change goes through
/// <see cref="JobLifecycle"/>. On start it re-attaches to the jobs an earlier agent left running (they keep their
/// slots and GPUs, as recorded). Dependencies (submit --after) are settled as jobs end, into
/// <see cref="QueueState.WaitingFor"/>, the gate Admission applies before resources; timeouts and retry delays are
/// <see cref="Deadlines"/> set from what the store keeps, so they go on across a restart.
/// </summary>
public sealed partial class JobScheduler(
    JobLifecycle lifecycle, RunLoopInbox inbox, IEnumerable<IJobExecutor> executors, QueueState queue, GpuWatcher gpuWatcher,
    ILogger<JobScheduler> logger, TimeProvider? time = null)
    : BackgroundService
{
    private sealed class Running(JobRecord job, IJobExecutor executor)
    {
        public JobRecord Job { get; } = job;
        public IJobExecutor Executor { get; } = executor;
        public bool CancelRequested { get; set; }
        public bool TimedOut { get; set; }
        public string? StopReason { get; set; }

        public AttemptEnd How => CancelRequested ? AttemptEnd.Canceled
            : StopReason is not null ? AttemptEnd.Stopped
            : TimedOut ? AttemptEnd.TimedOut
            : AttemptEnd.Exited;

        public bool Stopping => CancelRequested || TimedOut || StopReason is not null;

        /// <summary>How its attempt ended: a timeout noticed only after the attempt had ended (no agent ran) is no timeout.</summary>
        public AttemptEnd HowEnded(JobExit exit) =>
            How == AttemptEnd.TimedOut && Job.Timeout is { } timeout && Job.StartedAt + timeout > exit.EndedAt ? AttemptEnd.Exited : How;

        /// <summary>Its end state and reason as they will be recorded, or null when a retry follows (it has not ended).</summary>
        public (JobState State, string? Reason)? Outcome(JobExit exit)
        {
            var how = HowEnded(exit);
            return Attempts.Retry(Job.Attempt, Job.Retries, TimeSpan.FromSeconds(Job.RetryDelaySeconds), how, exit.ExitCode) is null
                ? JobOutcome.Of(exit, how, Job.Timeout, StopReason)
                : null;
        }
        public List<TaskCompletionSource<bool>> Waiting { get; } = [];
    }

    private readonly Dictionary<string, IJobExecutor> _executors = executors.ToDictionary(e => e.Name);
    private readonly Dictionary<long, Running> _running = [];
    // Jobs that ended, recorded after the next job has started: the next starts as soon as a slot frees, without
    // waiting on the database (bench/notes.md).
    private readonly List<(Running Job, JobExit Exit)> _ended = [];
    // Records those ends after which a job does not run again, on a thread of its own.
    private readonly EndRecorder _recorder = new(lifecycle, inbox, logger, DiskFullRetry);
    // Executors that take no slot (Slurm): their queued jobs are handed over at once, whatever runs locally.
    private readonly IJobExecutor[] _handOver = [.. executors.Where(e => !e.TakesSlot)];
    private bool _handOverDue = true;
    // A slot-less executor's job waits for a dependency or a retry delay: ends and deadlines make the hand-over due.
    private bool _handOverWaits;
    // What the loop last noted as a slot-less executor's waiting job's state ("waiting for job 3"), to write it once.
    private readonly Dictionary<long, string> _handOverNoted = [];
    // The highest job number read into the waiting queue: new jobs are read from there on.
    private long _lastQueued;
    // The data folder's disk is full (Store/DiskFull): no job starts, ends are kept in _ended, and the loop looks again
    // every DiskFullRetry until they are written.
    private bool _diskFull;
    private static readonly TimeSpan DiskFullRetry = TimeSpan.FromSeconds(2);
    private readonly Deadlines _deadlines = new(time ?? TimeProvider.System, inbox.DeadlineDue);
    // Waiting jobs with dependencies (what they wait for), and who waits for whom.
    private readonly Dictionary<long, (IReadOnlyList<long> After, IReadOnlyList<long> AfterAny)> _gated = [];
    private readonly Dictionary<long, List<long>> _dependants = [];
    // How jobs that someone waits for ended, as recorded while this agent ran.
    private readonly Dictionary<long, (JobState State, string? Reason)> _endedStates = [];

    protected override async Task ExecuteAsync(CancellationToken stopping)
    {
        await Task.Yield();
        gpuWatcher.Reload();
        foreach (var job in lifecycle.JobsToReattach())
        {
            if (ExecutorOf(job) is not { } executor)
            {
                lifecycle.RecordEnd(job, new JobExit(job.Number, null, DateTimeOffset.UtcNow,
                    $"its executor '{job.Executor}' is not set up in this agent; it may still run there"), AttemptEnd.Stopped,
                    $"its executor '{job.Executor}' is not set up in this agent; it may still run there");
                continue;
            }
            Log.Reattaching(logger, job.Number, executor.Name, job.ExecutorReference ?? "");
            executor.Reattach(job, stopping);
            lifecycle.Reattached(job);
            _running[job.Number] = new Running(job, executor);
            if (executor.TakesSlot)
            {
                lock (queue.Gate)
                {
                    queue.Restore(job);
                }
            }
            ArmTimeout(job);
        }
        ReadQueued();
        var reader = inbox.Reader;
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await StartWhatFitsAsync(stopping).ConfigureAwait(false);
                await HandOverAsync(stopping).ConfigureAwait(false);
                RecordEnded();
            }
            catch (Exception e) when (DiskFull.Is(e))
            {
                NoteDiskFull();
            }
            if (!reader.TryRead(out var signal))
            {
                try
                {
                    await WaitForSignalAsync(reader, stopping).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (stopping.IsCancellationRequested)
                {
                    break;
                }
                continue;
            }
            try
            {
                Handle(signal);
            }
            catch (Exception e) when (DiskFull.Is(e))
            {
                NoteDiskFull();
            }
        }
        // Jobs run on when the agent stops; the next agent re-attaches to them. The ends heard of are recorded first.
        await _recorder.StopAsync().ConfigureAwait(false);
    }

    /// <summary>Waits for the next signal; while the disk is full, at most <see cref="DiskFullRetry"/>.</summary>
    private async Task WaitForSignalAsync(System.Threading.Channels.ChannelReader<RunLoopInbox.Signal> reader, CancellationToken stopping)
    {
        if (!_diskFull)
        {
            await reader.WaitToReadAsync(stopping).ConfigureAwait(false);
            return;
        }
        using var retry = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        retry.CancelAfter(DiskFullRetry);
        try
        {
            await reader.WaitToReadAsync(retry.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!stopping.IsCancellationRequested)
        {
        }
    }

    private void NoteDiskFull()
    {
        if (_diskFull)
        {
            return;
        }
        _diskFull = true;
        Log.DiskFull(logger);
        lifecycle.TellDiskFull(_running.Values.Select(r => r.Job));
    }

    private void Handle(RunLoopInbox.Signal signal)
    {
        switch (signal)
        {
            case RunLoopInbox.JobsQueuedSignal:
                _handOverDue = true;
                ReadQueued();
                break;
            case RunLoopInbox.ResourcesChangedSignal:
                break;
            case RunLoopInbox.EndsNotRecordedSignal:
                NoteDiskFull();
                break;
            case RunLoopInbox.Ended ended:
                inbox.EndRead();
                _deadlines.Clear(ended.Exit.Number, DeadlineKind.Timeout);
                if (_running.Remove(ended.Exit.Number, out var running))
                {
                    _ended.Add((running, ended.Exit));
                    // Its slot and GPUs go to the next job now; the GPUs' memory is read again meanwhile.
                    lock (queue.Gate)
                    {
                        queue.Release(ended.Exit.Number);
                    }
                    gpuWatcher.ReadSoon();
                    // It finished (how it ended is known now): its dependants start without waiting for the end to be
                    // recorded, as the next job takes its slot. A failure is recorded first, so that the failures of
                    // its dependants follow it in order.
                    if (_dependants.TryGetValue(ended.Exit.Number, out var waiting) && running.Outcome(ended.Exit) is { State: JobState.Finished } outcome)
                    {
                        _endedStates[ended.Exit.Number] = outcome;
                        Settle(waiting);
                    }
                }
                break;
            case RunLoopInbox.ExecutorStateChanged changed:
                lifecycle.NoteExecutorState(changed.Number, changed.State);
                break;
            case RunLoopInbox.Cancel cancel:
                if (_running.TryGetValue(cancel.Number, out var target))
                {
                    target.CancelRequested = true;
                    target.Waiting.Add(cancel.Done);
                    _ = TerminateAsync(target, cancel.Grace);
                    break;
                }
                // Still queued (the loop is between starts), or between two attempts: it never starts (again).
                try
                {
                    cancel.Done.TrySetResult(CancelWaiting(cancel.Number));
                }
                catch (Exception e) when (DiskFull.Is(e))
                {
                    cancel.Done.TrySetException(e);
                    throw;
                }
                break;
            case RunLoopInbox.JobEndedSignal jobEnded:
                _handOverDue |= _handOverWaits;
                if (_dependants.Remove(jobEnded.Number, out var dependants))
                {
                    _endedStates[jobEnded.Number] = (jobEnded.State, jobEnded.Reason);
                    Settle(dependants);
                }
                break;
            case RunLoopInbox.DeadlineDueSignal { Kind: DeadlineKind.Timeout } due:
                if (_running.TryGetValue(due.Number, out var late) && !late.Stopping)
                {
                    late.TimedOut = true;
                    Log.TimedOut(logger, due.Number);
                    _ = TerminateAsync(late, lifecycle.StopGrace);
                }
                break;
            case RunLoopInbox.DeadlineDueSignal:
                // A retry delay is over: the loop looks again at what can start.
                _handOverDue |= _handOverWaits;
                break;
            case RunLoopInbox.StopRunning stop:
                if (_running.TryGetValue(stop.Number, out var met) && !met.Stopping)
                {
                    met.StopReason = stop.Reason;
                    _ = TerminateAsync(met, lifecycle.StopGrace);
                }
                break;
        }
    }

    /// <summary>A job waiting to start (queued, or between attempts) is canceled at once; false when it no longer waits.</summary>
    private bool CancelWaiting(long number)
    {
        _readAhead.Remove(number);
        var canceled = lifecycle.CancelQueued(number) || lifecycle.CancelBetweenAttempts(number) is not null;
        lock (queue.Gate)
        {
            queue.Waiting.Remove(number);
            queue.WaitingFor.Remove(number);
        }
        _deadlines.Clear(number, DeadlineKind.RetryDue);
        _handOverNoted.Remove(number);
        return canceled;
    }

    /// <summary>
    /// Decides the dependencies of waiting jobs from the states of the jobs they wait for: ready, still waiting (kept
    /// in <see cref="QueueState.WaitingFor"/>), or failed: then the job ends FAILED at once, and its own dependants
    /// hear of it as of any end.
    /// </summary>
    private void Settle(IEnumerable<long> numbers)
    {
        foreach (var number in numbers)
        {
            if (!_gated.TryGetValue(number, out var gate))
            {
                continue;
            }
            var verdict = DependencyGate.Check(gate.After, gate.AfterAny, StateOf);
            lock (queue.Gate)
            {
                if (!queue.Waiting.Contains(number))
                {
                    _gated.Remove(number);
                    continue;
                }
                if (verdict is DependencyGate.Waiting waiting)
                {
                    queue.WaitingFor[number] = waiting.On;
                    continue;
                }
                queue.WaitingFor.Remove(number);
                if (verdict is DependencyGate.Failed)
                {
                    queue.Waiting.Remove(number);
                }
            }
            _gated.Remove(number);
            if (verdict is DependencyGate.Failed failed)
            {
                lifecycle.FailDependency(number, failed.Reason);
            }
        }
    }

    /// <summary>What the dependency gate reads of a job: the loop's own knowledge first, else the store's.</summary>
    private (JobState State, string? Reason)? StateOf(long number)
    {
        if (_endedStates.TryGetValue(number, out var ended))
        {
            return ended;
        }
        if (_running.ContainsKey(number) || _ended.Any(e => e.Job.Job.Number == number))
        {
            return (JobState.Running, null);
        }
        lock (queue.Gate)
        {
            if (queue.Waiting.Contains(number))
            {
                return (JobState.Queued, null);
            }
        }
        return lifecycle.StateOf(number);
    }

    /// <summary>Sets the deadline of a running attempt's timeout (submit --timeout), counted from its start.</summary>
    private void ArmTimeout(JobRecord job)
    {
        if (job.Timeout is { } timeout && job.StartedAt is { } started && ExecutorOf(job) is not { KeepsTimeLimit: true })
        {
            _deadlines.Set(job.Number, DeadlineKind.Timeout, started + timeout);
        }
    }

    /// <summary>Reads the jobs queued since the last read into the waiting queue.</summary>
    private void ReadQueued()
    {
        var jobs = lifecycle.Waiting(_lastQueued);
        var gated = new List<long>();
        lock (queue.Gate)
        {
            foreach (var job in jobs)
            {
                if (!_running.ContainsKey(job.Number))
                {
                    queue.AddWaiting(job.Number, job.Priority, job.GpuQuarters, job.GpuIds, job.CreatedAt, job.RetryAt);
                    if (job.After.Count + job.AfterAny.Count > 0)
                    {
                        gated.Add(job.Number);
                        _gated[job.Number] = (job.After, job.AfterAny);
                    }
                }
                _lastQueued = Math.Max(_lastQueued, job.Number);
            }
        }
        foreach (var job in jobs)
        {
            if (job.RetryAt is { } at)
            {
                _deadlines.Set(job.Number, DeadlineKind.RetryDue, at);
            }
            foreach (var on in job.After.Concat(job.AfterAny))
            {
                if (!_dependants.TryGetValue(on, out var list))
                {
                    _dependants[on] = list = [];
                }
                if (!list.Contains(job.Number))
                {
                    list.Add(job.Number);
                }
            }
        }
        Settle(gated);
    }

    private async Task StartWhatFitsAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            if (_diskFull || !lifecycle.RoomToStart())
            {
                if (_ended.Count > 0 || _recorder.Stuck || !lifecycle.RoomToStart())
                {
                    NoteDiskFull();
                    return;
                }
                _diskFull = false;
                Log.DiskRoomAgain(logger);
            }
            Admitted? next;
            int slot = 0, slots;
            lock (queue.Gate)
            {
                next = queue.Paused ? null : Admission.Next(queue.Waiting, queue.FreeSlots, queue.Gpus, queue.Now, queue.ReserveAfter, queue.Ready);
                if (next is { } n)
                {
                    slot = queue.Take(n.Job, n.Gpus);
                }
                slots = queue.Slots;
            }
            if (next is not { } admitted)
            {
                return;
            }
            if (Queued(admitted.Job.Number) is not { } job)
            {
                // No longer queued (cancels go through this loop, so only another writer of the folder's database does this).
                lock (queue.Gate)
                {
                    queue.Release(admitted.Job.Number);
                }
                continue;
            }
            job = job with { Environment = GpuEnvironment.For(job.Environment, admitted.Job.Gpus, admitted.Gpus, slot, slots) };
            bool started;
            try
            {
                started = await StartAsync(job, admitted.Gpus, slot, stopping).ConfigureAwait(false);
            }
            catch (Exception e) when (DiskFull.Is(e))
            {
                // Not started, not failed: it waits for room.
                lock (queue.Gate)
                {
                    queue.Release(job.Number);
                    queue.Waiting.Add(admitted.Job);
                }
                throw;
            }
            if (!started)
            {
                lock (queue.Gate)
                {
                    queue.Release(job.Number);
                }
            }
        }
    }

    /// <summary>
    /// The job to start, with its environment, or null when it left the queue: from the read-ahead, or read with the
    /// next few after it (in a queue of many jobs they are the next to start: one read for <see cref="ReadAhead"/>
    /// starts). A row read ahead may be stale only in its state, which the start checks
    /// (<see cref="JobLifecycle.MarkStarted"/>); a cancel drops it.
    /// </summary>
    private JobRecord? Queued(long number)
    {
        if (_readAhead.Remove(number, out var job))
        {
            return job;
        }
        _readAhead.Clear();
        foreach (var next in lifecycle.StartableFrom(number, ReadAhead))
        {
            _readAhead[next.Number] = next;
        }
        return _readAhead.Remove(number, out job) ? job : null;
    }

    private const int ReadAhead = 8;
    private readonly Dictionary<long, JobRecord> _readAhead = [];

    /// <summary>Gives every queued job of a slot-less executor (Slurm) to it; one that cannot take them now keeps them queued.</summary>
    private async Task HandOverAsync(CancellationToken stopping)
    {
        bool paused;
        lock (queue.Gate)
        {
            paused = queue.Paused;
        }
        // Paused (`meeshkan pause`) or the disk full: nothing new starts, on Slurm either; the hand-over stays due.
        if (!_handOverDue || _handOver.Length == 0 || paused || _diskFull)
        {
            return;
        }
        _handOverDue = false;
        _handOverWaits = false;
        foreach (var executor in _handOver)
        {
            var ready = lifecycle.QueuedOn(executor.Name).Where(ReadyToHandOver).ToList();
            // A few at once: Slurm's controller takes sbatch calls in parallel, and each is a process that mostly waits.
            foreach (var batch in ready.Chunk(HandOverAtOnce))
            {
                if (!executor.Available)
                {
                    break;
                }
                var launches = batch.Select(job => LaunchAsync(executor, job, stopping)).ToArray();
                await Task.WhenAll(launches).ConfigureAwait(false);
                Exception? diskFull = null;
                for (var i = 0; i < batch.Length; i++)
                {
                    _handOverNoted.Remove(batch[i].Number);
                    try
                    {
                        Launched(batch[i], executor, launches[i].Result, [], 0);
                    }
                    catch (Exception e) when (DiskFull.Is(e))
                    {
                        // That one was stopped (its start could not be recorded); the others' starts are still recorded or stopped.
                        diskFull ??= e;
                    }
                }
                if (diskFull is not null)
                {
                    System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(diskFull);
                }
            }
        }
    }

    // How many queued jobs of a slot-less executor (Slurm) are handed over at once.
    private const int HandOverAtOnce = 8;

    /// <summary>
    /// Whether a slot-less executor's waiting job may be handed over now: its retry delay is over and its dependencies
    /// (submit --after) have finished. One that failed fails it, as for a local job; one still waiting keeps it here,
    /// with its reason in the list, until an end or a deadline makes the hand-over due again.
    /// </summary>
    private bool ReadyToHandOver(JobRecord job)
    {
        if (job.RetryAt is { } at && at > DateTimeOffset.UtcNow)
        {
            // Between attempts: `list` says "attempt 1/3, retrying in 25s" from the job's own retry time.
            _deadlines.Set(job.Number, DeadlineKind.RetryDue, at);
            _handOverWaits = true;
            return false;
        }
        if (job.After.Count + job.AfterAny.Count == 0)
        {
            return true;
        }
        string waitingFor;
        switch (DependencyGate.Check(job.After, job.AfterAny, StateOf))
        {
            case DependencyGate.Waiting waiting:
                waitingFor = $"waiting for job {waiting.On}";
                break;
            case DependencyGate.Failed failed:
                _handOverNoted.Remove(job.Number);
                lifecycle.FailDependency(job.Number, failed.Reason);
                return false;
            default:
                return true;
        }
        _handOverWaits = true;
        if (!_handOverNoted.TryGetValue(job.Number, out var noted) || noted != waitingFor)
        {
            _handOverNoted[job.Number] = waitingFor;
            lifecycle.NoteExecutorState(job.Number, waitingFor);
        }
        return false;
    }

    /// <summary>Starts the job on its executor; false when it did not start (failed, canceled meanwhile, or kept queued).</summary>
    private async Task<bool> StartAsync(JobRecord job, int[] gpus, int slot, CancellationToken stopping)
    {
        if (ExecutorOf(job) is not { } executor)
        {
            lifecycle.FailToStart(job, $"its executor '{job.Executor}' is not set up in this agent");
            return false;
        }
        return Launched(job, executor, await LaunchAsync(executor, job, stopping).ConfigureAwait(false), gpus, slot);
    }

    /// <summary>What the executor's start gave: the start, or why not (several may run at once: nothing here touches the loop's state).</summary>
    private readonly record struct Launch(ExecutorStart? Start, Exception? Problem);

    private static async Task<Launch> LaunchAsync(IJobExecutor executor, JobRecord job, CancellationToken stopping)
    {
        try
        {
            return new Launch(await executor.StartAsync(job, stopping).ConfigureAwait(false), null);
        }
        catch (Exception e) when (e is ExecutorStartException or ExecutorUnavailableException || DiskFull.Is(e))
        {
            return new Launch(null, e);
        }
    }

    /// <summary>Records a launch on the loop: the job runs (in the map of running jobs), failed to start, or stays queued.</summary>
    private bool Launched(JobRecord job, IJobExecutor executor, Launch launch, int[] gpus, int slot)
    {
        switch (launch.Problem)
        {
            case { } e when DiskFull.Is(e):
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e);
                break;
            case ExecutorStartException e:
                lifecycle.FailToStart(job, e.Message);
                return false;
            case ExecutorUnavailableException e:
                // Stays queued; the executor wakes the loop once it can take jobs again.
                lifecycle.NoteExecutorState(job.Number, e.Message);
                return false;
        }
        var start = launch.Start!;
        JobRecord? started;
        try
        {
            started = lifecycle.MarkStarted(job, executor.Name, start, gpus, slot);
        }
        catch (Exception e) when (DiskFull.Is(e))
        {
            // Its start cannot be recorded: it does not run unrecorded.
            _ = executor.TerminateAsync(job with { ExecutorReference = start.Reference }, TimeSpan.FromSeconds(1));
            throw;
        }
        if (started is null)
        {
            // No longer queued when it started (as above): it does not run.
            _ = executor.TerminateAsync(job with { ExecutorReference = start.Reference }, TimeSpan.FromSeconds(1));
            return false;
        }
        _running[job.Number] = new Running(started, executor);
        ArmTimeout(started);
        return true;
    }

    /// <summary>
    /// Records the ends heard of, oldest first: one after which the job does not run again goes to the
    /// <see cref="EndRecorder"/>; one the job is retried after is recorded here, and its next attempt queued. One the
    /// full disk refuses stays, with those after it, for the next try. After a retry it gives way to an end that came
    /// in meanwhile: that job's slot is filled first, then this goes on (at least one end is recorded each time round,
    /// so none waits forever).
    /// </summary>
    private void RecordEnded()
    {
        var recorded = 0;
        while (_ended.Count > 0 && (recorded == 0 || !inbox.EndsWaiting))
        {
            var (running, exit) = _ended[0];
            if (running.Outcome(exit) is not null)
            {
                _recorder.Add(new EndRecorder.End(running.Job, exit, running.HowEnded(exit), running.StopReason, running.Waiting));
                _ended.RemoveAt(0);
                continue;
            }
            recorded++;
            if (lifecycle.RecordEnd(running.Job, exit, running.HowEnded(exit), running.StopReason) is { RetryAt: { } at } retrying)
            {
                // Its next attempt waits for its delay, then for a slot, like any queued job; on a slot-less executor
                // (Slurm), for its delay, then it is handed over again.
                if (running.Executor.TakesSlot)
                {
                    lock (queue.Gate)
                    {
                        queue.AddWaiting(retrying.Number, retrying.Priority, retrying.GpuQuarters, retrying.GpuIds, retrying.CreatedAt, at);
                    }
                }
                else
                {
                    _handOverDue = true;
                }
                _deadlines.Set(retrying.Number, DeadlineKind.RetryDue, at);
            }
            _ended.RemoveAt(0);
            foreach (var waiting in running.Waiting)
            {
                waiting.TrySetResult(true);
            }
        }
    }

    private async Task TerminateAsync(Running running, TimeSpan grace)
    {
        try
        {
            await running.Executor.TerminateAsync(running.Job, grace).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            Log.TerminateFailed(logger, running.Job.Number, e);
        }
    }

    /// <summary>The executor that runs the job (a queued job names none yet: the local one), or null when not set up.</summary>
    private IJobExecutor? ExecutorOf(JobRecord job) =>
        _executors.GetValueOrDefault(job.Executor ?? Executors.Local.LocalExecutor.ExecutorName);

    private static partial class Log
    {
        [LoggerMessage(LogEvents.Scheduler + 1, LogLevel.Information, "Re-attaching to job {Number} ({Executor} {Reference}) started by an earlier agent")]
        public static partial void Reattaching(ILogger logger, long number, string executor, string reference);

        [LoggerMessage(LogEvents.Scheduler + 2, LogLevel.Error, "Job {Number} could not be stopped")]
        public static partial void TerminateFailed(ILogger logger, long number, Exception exception);

        [LoggerMessage(LogEvents.Scheduler + 3, LogLevel.Warning, "The data folder's disk is full: no job starts and ends are kept until there is room (running jobs go on)")]
        public static partial void DiskFull(ILogger logger);

        [LoggerMessage(LogEvents.Scheduler + 4, LogLevel.Information, "The data folder's disk has room again: the kept ends are recorded and jobs start")]
        public static partial void DiskRoomAgain(ILogger logger);

        [LoggerMessage(LogEvents.Scheduler + 5, LogLevel.Information, "Job {Number} ran out of time (submit --timeout): stopping it")]
        public static partial void TimedOut(ILogger logger, long number);
    }

    public override void Dispose()
    {
        _deadlines.Dispose();
        base.Dispose();
    }
}
