using Meeshkan.Agent.Conditions;
using Meeshkan.Agent.Executors;
using Meeshkan.Agent.Scheduler;
using Meeshkan.Agent.Store;
using Microsoft.Extensions.Logging;

namespace Meeshkan.Agent.Jobs;

/// <summary>
/// The only code that changes a job's state: submit, start, end, cancel, clear, register and finish of a job run
/// outside the agent, re-attachment after a restart. Each change is one guarded store write (JobTransitions), then
/// one call to <see cref="JobObservers"/>. The run loop (Scheduler/JobScheduler) calls the start and end methods;
/// the gRPC services and the Telegram commands call the rest.
/// </summary>
public sealed partial class JobLifecycle(
    JobStore store, AgentOptions options, Config.AgentConfig config, RunLoopInbox runLoop, ConditionEngine conditions,
    Scalars.UnsentScalars unsent, OutputScalars.OutputScalarReader output, JobObservers observers, ILogger<JobLifecycle> logger)
{
    /// <summary>Queues jobs, in order, with their stop conditions (submit --stop-if), and wakes the run loop.</summary>
    public IReadOnlyList<JobRecord> Submit(IReadOnlyList<JobStore.NewJob> jobs)
    {
        // Slurm jobs' folders go where the compute nodes see them (setup --slurm-folder), by default the data folder.
        var folders = jobs.Count > 0 && jobs[0].Executor == Executors.Slurm.SlurmExecutor.ExecutorName && config.Slurm?.Folder is { Length: > 0 } shared
            ? (Func<long, string>)(n => Path.Combine(shared, "jobs", n.ToString(System.Globalization.CultureInfo.InvariantCulture)))
            : options.Home.JobFolder;
        var records = store.Insert(jobs, folders);
        foreach (var job in records.Where(j => j.StopIf is { Length: > 0 }))
        {
            conditions.Add(job, new V1.AddConditionRequest { Expression = job.StopIf, Action = V1.ConditionAction.Stop });
        }
        runLoop.JobsQueued();
        return records;
    }

    /// <summary>What SIGTERM gives a job before SIGKILL when the agent stops it (cancel, timeout, stop condition).</summary>
    public TimeSpan StopGrace => TimeSpan.FromSeconds(config.CancelGraceSeconds);

    /// <summary>
    /// `meeshkan retry`: queues a new job with the command, working directory, environment, name and options of an
    /// ended one (pueue's restart). The new job.
    /// </summary>
    public JobRecord Retry(JobRecord job)
    {
        if (!job.IsEnded)
        {
            throw new NotAllowedException(
                $"job {job.Number} ({job.Name}) is {job.State.ToString().ToUpperInvariant()}; retry an ended job (`meeshkan wait {job.Number}` or `meeshkan cancel {job.Number}` first)");
        }
        if (job.External)
        {
            throw new NotAllowedException($"job {job.Number} ({job.Name}) ran outside the agent (as_blocking_job); run that program again instead");
        }
        var full = store.GetWithEnvironment(job.Number) ?? throw new NotFoundException($"job {job.Number} was cleared meanwhile");
        return Submit([JobStore.NewJob.Again(full)])[0];
    }

    /// <summary>A job started outside the agent (as_blocking_job): RUNNING from the first moment, ended by <see cref="FinishExternal"/>.</summary>
    public JobRecord RegisterExternal(JobStore.NewJob job)
    {
        var record = store.Insert([job with { External = true }], options.Home.JobFolder, JobState.Running)[0];
        Directory.CreateDirectory(record.OutputDirectory);
        observers.JobStarted(record);
        return record;
    }

    /// <summary>Ends a job run outside the agent, as its process reports; the job as it is then.</summary>
    public JobRecord FinishExternal(JobRecord job, bool success, int exitCode, string error)
    {
        if (!job.External)
        {
            throw new NotAllowedException($"job {job.Number} is run by the agent; it ends when its process exits");
        }
        var ended = store.MarkEnded(job.Number, success ? JobState.Finished : JobState.Failed, success ? 0 : exitCode,
            success ? null : Truncate(error, 2000), onlyFrom: JobState.Running);
        if (ended is null)
        {
            return store.GetByNumber(job.Number)!;
        }
        Ended(ended);
        return ended;
    }

    /// <summary>
    /// Cancels a job: a queued one at once, a running one by its executor (SIGTERM, then SIGKILL after the grace);
    /// returns once its end is recorded. The job as it is then.
    /// </summary>
    public async Task<JobRecord> CancelAsync(JobRecord job, TimeSpan? grace = null)
    {
        if (job.IsEnded)
        {
            throw new NotAllowedException($"job {job.Number} ({job.Name}) has already ended: {job.State.ToString().ToUpperInvariant()}");
        }
        if (job.External)
        {
            throw new NotAllowedException(
                $"job {job.Number} ({job.Name}) runs outside the agent (as_blocking_job); stop that process instead (pid {job.Pid})");
        }
        var wait = grace ?? TimeSpan.FromSeconds(config.CancelGraceSeconds);
        // The run loop cancels it between two starts: a queued job it is starting is stopped once started, not left running.
        var recorded = runLoop.CancelAsync(job.Number, wait);
        try
        {
            await recorded.WaitAsync(wait + TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            Log.CancelSlow(logger, job.Number);
        }
        return store.GetByNumber(job.Number) ?? job;
    }

    /// <summary>Deletes every ended job, what was stored for it and its folder: their numbers and the bytes freed.</summary>
    public (IReadOnlyList<long> Numbers, long BytesFreed) ClearEnded()
    {
        var numbers = new List<long>();
        long bytes = 0;
        foreach (var job in store.DeleteEnded())
        {
            numbers.Add(job.Number);
            bytes += job.Folder.Delete();
        }
        return (numbers, bytes);
    }

    // ---- Called by the run loop ----

    /// <summary>What the scheduling policy needs of each queued job (or job between attempts) numbered above <paramref name="after"/>.</summary>
    public IReadOnlyList<JobStore.WaitingRow> Waiting(long after) => store.Waiting(after);

    /// <summary>
    /// Jobs that may start, with their environments, from <paramref name="number"/> on, oldest first: that job first
    /// unless it left the queue, then the next (the run loop's read-ahead).
    /// </summary>
    public IReadOnlyList<JobRecord> StartableFrom(long number, int count) => store.StartableFrom(number, count);

    /// <summary>The jobs of an executor that takes no slot (Slurm) waiting to start (queued, or between attempts), oldest first.</summary>
    public IReadOnlyList<JobRecord> QueuedOn(string executor) => store.QueuedOn(executor);

    /// <summary>Jobs an earlier agent started whose attempt has not ended (those between attempts are queued again).</summary>
    public IReadOnlyList<JobRecord> JobsToReattach() => store.List([JobState.Running]).Where(j => !j.External && !j.BetweenAttempts).ToList();

    /// <summary>Its executor watches it again: reading scalars from its output (if asked) goes on where it stopped.</summary>
    public void Reattached(JobRecord job) => output.Resume(job);

    /// <summary>A job's state and failure reason, or null when it is no longer stored (for the dependency gate).</summary>
    public (JobState State, string? Reason)? StateOf(long number) =>
        store.GetByNumber(number) is { } job ? (job.State, job.FailureReason) : null;

    /// <summary>
    /// QUEUED → RUNNING once its executor started it (or, between attempts, its next attempt started); null when it
    /// was canceled meanwhile.
    /// </summary>
    public JobRecord? MarkStarted(JobRecord job, string executor, ExecutorStart start, IReadOnlyList<int>? gpus = null, int? slot = null)
    {
        var started = job.BetweenAttempts
            ? store.MarkNextAttempt(job, executor, start.Reference, start.Pid, gpus, slot, start.StartedAt)
            : store.MarkRunning(job, executor, start.Reference, start.Pid, gpus, slot, start.StartedAt);
        if (started is null)
        {
            return null;
        }
        Log.Started(logger, job.Number, executor, start.Reference);
        if (job.BetweenAttempts)
        {
            // The conditions' latest values were the last attempt's: this one has its own scalars.
            conditions.Forget(job.Number);
        }
        output.Start(started);
        observers.JobStarted(started);
        return started;
    }

    /// <summary>QUEUED → CANCELED, by the run loop between starts; false when it no longer waits.</summary>
    public bool CancelQueued(long number)
    {
        if (store.MarkEnded(number, JobState.Canceled, null, JobOutcome.CanceledReason, onlyFrom: JobState.Queued) is not { } canceled)
        {
            return false;
        }
        Ended(canceled);
        return true;
    }

    /// <summary>QUEUED → FAILED: its executor could not start it (between attempts: RUNNING → FAILED).</summary>
    public void FailToStart(JobRecord job, string reason)
    {
        Log.CouldNotStart(logger, job.Number, reason);
        if (store.MarkEnded(job.Number, JobState.Failed, null, $"could not start: {reason}", onlyFrom: job.BetweenAttempts ? JobState.Running : JobState.Queued) is { } failed)
        {
            Ended(failed);
        }
    }

    /// <summary>QUEUED → FAILED: a job it waits for (submit --after) failed or was canceled; "dependency 3 failed".</summary>
    public JobRecord? FailDependency(long number, string reason)
    {
        if (store.MarkEnded(number, JobState.Failed, null, reason, onlyFrom: JobState.Queued) is not { } failed)
        {
            return null;
        }
        Log.Ended(logger, LogLevel.Information, number, JobState.Failed, -1);
        Ended(failed);
        return failed;
    }

    /// <summary>RUNNING (between attempts) → CANCELED: the user canceled a job waiting out its retry delay.</summary>
    public JobRecord? CancelBetweenAttempts(long number)
    {
        if (store.GetByNumber(number) is not { BetweenAttempts: true } || store.MarkEnded(number, JobState.Canceled, null, JobOutcome.CanceledReason, onlyFrom: JobState.Running) is not { } canceled)
        {
            return null;
        }
        Ended(canceled);
        return canceled;
    }

    /// <summary>
    /// An attempt ended <paramref name="how"/>, as its executor reported it: the job's end state (RUNNING → FINISHED,
    /// FAILED or CANCELED), or, when it failed and has retries left (submit --retries), the job kept RUNNING between
    /// attempts with its next start time (<see cref="JobRecord.RetryAt"/>), its attempt's output kept aside, and the
    /// observers told. Returns the job when it is retried, else null.
    /// </summary>
    public JobRecord? RecordEnd(JobRecord job, JobExit exit, AttemptEnd how, string? stopReason = null)
    {
        var (state, reason) = JobOutcome.Of(exit, how, job.Timeout, stopReason);
        // What the job could not deliver before it exited, and its output's last scalars, stored before its end is (the
        // end notification has them).
        unsent.Ingest(job.Number);
        output.Finish(job);
        if (Attempts.Retry(job.Attempt, job.Retries, TimeSpan.FromSeconds(job.RetryDelaySeconds), how, exit.ExitCode) is { } delay)
        {
            var at = DateTimeOffset.UtcNow + delay;
            if (store.MarkRetrying(job.Number, exit.ExitCode, reason ?? "failed", exit.EndedAt, at) is not { } retrying)
            {
                return null;
            }
            retrying.Folder.KeepAttempt(retrying.Attempt);
            var message = Attempts.FailedAndRetrying(job.Attempt, job.Retries, Attempts.Why(how, exit.ExitCode, job.Timeout ?? TimeSpan.Zero, reason), delay);
            Log.Retrying(logger, job.Number, message);
            observers.AttemptFailed(retrying, message);
            return retrying;
        }
        if (store.MarkEnded(job.Number, state, exit.ExitCode, reason, exit.EndedAt, onlyFrom: JobState.Running,
                oneAttempt: job.Retries == 0 && job.Attempt <= 1, known: job) is not { } ended)
        {
            return null;
        }
        // A job that finished is in `list` and its history; the agent's log keeps what needs a look (Debug shows them all).
        Log.Ended(logger, state == JobState.Finished ? LogLevel.Debug : LogLevel.Information, job.Number, state, exit.ExitCode ?? -1);
        Ended(ended);
        return null;
    }

    /// <summary>Whether the data folder's disk has room for a job's records (its start, logs and end).</summary>
    /// <remarks>Asked before every start: the disk is looked at (statfs) at most every 250 ms while it has room, at each
    /// call once it has none.</remarks>
    public bool RoomToStart()
    {
        var now = Environment.TickCount64;
        if (!_room || now - _roomCheckedAt >= 250)
        {
            _room = DiskFull.RoomLeft(options.Home.Root);
            _roomCheckedAt = now;
        }
        return _room;
    }

    private bool _room = true;
    private long _roomCheckedAt = long.MinValue / 2;

    /// <summary>The disk is full: the running jobs' channels are told (they go on; their ends are recorded once there is room).</summary>
    public void TellDiskFull(IEnumerable<JobRecord> running)
    {
        var text = $"The disk holding Meeshkan's data folder {options.Home.Root} is full: this job goes on, no new job starts and "
            + "submits are refused until there is space again.";
        foreach (var job in running)
        {
            observers.CustomMessage(job, text);
        }
    }

    /// <summary>The executor's own word on a job that has not ended.</summary>
    public void NoteExecutorState(long number, string executorState) => store.SetExecutorState(number, executorState);

    private void Ended(JobRecord job)
    {
        conditions.Forget(job.Number);
        observers.JobEnded(job);
        // Its dependants (submit --after) may start, or fail, now.
        runLoop.JobEnded(job.Number, job.State, job.FailureReason);
    }

    private static string Truncate(string text, int max) => text.Length <= max ? text : text[..max] + "…";

    private static partial class Log
    {
        // Debug: a queue of short jobs wrote two lines a job, a tenth of the run loop's time (`list` has every start).
        [LoggerMessage(1, LogLevel.Debug, "Job {Number} started ({Executor} {Reference})")]
        public static partial void Started(ILogger logger, long number, string executor, string reference);

        [LoggerMessage(EventId = 2, Message = "Job {Number} ended: {State}, exit code {ExitCode}")]
        public static partial void Ended(ILogger logger, LogLevel level, long number, JobState state, int exitCode);

        [LoggerMessage(3, LogLevel.Warning, "Job {Number} could not start: {Reason}")]
        public static partial void CouldNotStart(ILogger logger, long number, string reason);

        [LoggerMessage(8, LogLevel.Information, "Job {Number}: {Message}")]
        public static partial void Retrying(ILogger logger, long number, string message);

        [LoggerMessage(7, LogLevel.Warning, "Job {Number} was asked to stop but its end was not recorded in time")]
        public static partial void CancelSlow(ILogger logger, long number);
    }
}
