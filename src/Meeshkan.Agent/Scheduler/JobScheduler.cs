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
/// slots and GPUs, as recorded).
/// </summary>
public sealed partial class JobScheduler(
    JobLifecycle lifecycle, RunLoopInbox inbox, IEnumerable<IJobExecutor> executors, QueueState queue, GpuWatcher gpuWatcher,
    ILogger<JobScheduler> logger)
    : BackgroundService
{
    private sealed class Running(JobRecord job, IJobExecutor executor)
    {
        public JobRecord Job { get; } = job;
        public IJobExecutor Executor { get; } = executor;
        public bool CancelRequested { get; set; }
        public List<TaskCompletionSource<bool>> Waiting { get; } = [];
    }

    private readonly Dictionary<string, IJobExecutor> _executors = executors.ToDictionary(e => e.Name);
    private readonly Dictionary<long, Running> _running = [];
    // Jobs that ended, recorded after the next job has started: the next starts as soon as a slot frees, without
    // waiting on the database (bench/notes.md).
    private readonly List<(Running Job, JobExit Exit)> _ended = [];
    // The highest job number read into the waiting queue: new jobs are read from there on.
    private long _lastQueued;
    // The data folder's disk is full (Store/DiskFull): no job starts, ends are kept in _ended, and the loop looks again
    // every DiskFullRetry until they are written.
    private bool _diskFull;
    private static readonly TimeSpan DiskFullRetry = TimeSpan.FromSeconds(2);

    protected override async Task ExecuteAsync(CancellationToken stopping)
    {
        await Task.Yield();
        gpuWatcher.Reload();
        foreach (var job in lifecycle.JobsToReattach())
        {
            if (ExecutorOf(job) is not { } executor)
            {
                lifecycle.RecordEnd(job, new JobExit(job.Number, null, DateTimeOffset.UtcNow,
                    $"its executor '{job.Executor}' is not set up in this agent; it may still run there"), canceled: false);
                continue;
            }
            Log.Reattaching(logger, job.Number, executor.Name, job.ExecutorReference ?? "");
            executor.Reattach(job, stopping);
            lifecycle.Reattached(job);
            _running[job.Number] = new Running(job, executor);
            lock (queue.Gate)
            {
                queue.Restore(job);
            }
        }
        ReadQueued();
        var reader = inbox.Reader;
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await StartWhatFitsAsync(stopping).ConfigureAwait(false);
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
        // Jobs run on when the agent stops; the next agent re-attaches to them.
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
                ReadQueued();
                break;
            case RunLoopInbox.ResourcesChangedSignal:
                break;
            case RunLoopInbox.Ended ended:
                if (_running.Remove(ended.Exit.Number, out var running))
                {
                    _ended.Add((running, ended.Exit));
                    // Its slot and GPUs go to the next job now; the GPUs' memory is read again meanwhile.
                    lock (queue.Gate)
                    {
                        queue.Release(ended.Exit.Number);
                    }
                    gpuWatcher.ReadSoon();
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
                // Still queued (the loop is between starts): it never starts.
                try
                {
                    cancel.Done.TrySetResult(lifecycle.CancelQueued(cancel.Number));
                }
                catch (Exception e) when (DiskFull.Is(e))
                {
                    cancel.Done.TrySetException(e);
                    throw;
                }
                lock (queue.Gate)
                {
                    queue.Waiting.Remove(cancel.Number);
                }
                break;
        }
    }

    /// <summary>Reads the jobs queued since the last read into the waiting queue.</summary>
    private void ReadQueued()
    {
        var jobs = lifecycle.Waiting(_lastQueued);
        lock (queue.Gate)
        {
            foreach (var (number, priority, quarters, ids, createdAt) in jobs)
            {
                if (!_running.ContainsKey(number))
                {
                    queue.AddWaiting(number, priority, quarters, ids, createdAt);
                }
                _lastQueued = Math.Max(_lastQueued, number);
            }
        }
    }

    private async Task StartWhatFitsAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            if (_diskFull || !lifecycle.RoomToStart())
            {
                if (_ended.Count > 0 || !lifecycle.RoomToStart())
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
                next = queue.Paused ? null : Admission.Next(queue.Waiting, queue.FreeSlots, queue.Gpus, queue.Now, queue.ReserveAfter);
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
            if (lifecycle.QueuedJob(admitted.Job.Number) is not { } job)
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

    /// <summary>Starts the job on its executor; false when it did not start (failed, or canceled meanwhile).</summary>
    private async Task<bool> StartAsync(JobRecord job, int[] gpus, int slot, CancellationToken stopping)
    {
        if (ExecutorOf(job) is not { } executor)
        {
            lifecycle.FailToStart(job, $"its executor '{job.Executor}' is not set up in this agent");
            return false;
        }
        ExecutorStart start;
        try
        {
            start = await executor.StartAsync(job, stopping).ConfigureAwait(false);
        }
        catch (ExecutorStartException e) when (!DiskFull.Is(e))
        {
            lifecycle.FailToStart(job, e.Message);
            return false;
        }
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
        return true;
    }

    /// <summary>Records the ends heard of, oldest first; one the full disk refuses stays, with those after it, for the next try.</summary>
    private void RecordEnded()
    {
        while (_ended.Count > 0)
        {
            var (running, exit) = _ended[0];
            lifecycle.RecordEnd(running.Job, exit, running.CancelRequested);
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
    }
}
