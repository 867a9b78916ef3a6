using Meeshkan.Agent.Executors;
using Meeshkan.Agent.Jobs;
using Meeshkan.Agent.Store;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Meeshkan.Agent.Scheduler;

/// <summary>How many jobs run at once. One by default; the parallel-jobs work turns it up.</summary>
public sealed class SchedulerOptions
{
    public int Slots { get; init; } = 1;
}

/// <summary>
/// The run loop: starts what <see cref="SchedulingPolicy"/> picks while slots are free, on the executor that runs
/// the job, and records each end it hears of through <see cref="RunLoopInbox"/>. It holds the map of running jobs;
/// every state change goes through <see cref="JobLifecycle"/>. On start it re-attaches to the jobs an earlier agent
/// left running (they take their slots).
/// </summary>
public sealed partial class JobScheduler(
    JobLifecycle lifecycle, RunLoopInbox inbox, IEnumerable<IJobExecutor> executors, SchedulerOptions options, ILogger<JobScheduler> logger)
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
    // The oldest queued jobs, read while jobs run so that the next starts without a query; null when unknown.
    private List<JobRecord>? _queue;

    private int QueueWindow => Math.Max(options.Slots, 1);

    protected override async Task ExecuteAsync(CancellationToken stopping)
    {
        await Task.Yield();
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
            _running[job.Number] = new Running(job, executor);
        }
        var reader = inbox.Reader;
        while (!stopping.IsCancellationRequested)
        {
            await StartWhatFitsAsync(stopping).ConfigureAwait(false);
            RecordEnded();
            if (_queue is null && _running.Count >= options.Slots)
            {
                _queue = [.. lifecycle.Queued(QueueWindow)];
            }
            if (!reader.TryRead(out var signal))
            {
                try
                {
                    await reader.WaitToReadAsync(stopping).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
                continue;
            }
            Handle(signal);
        }
        // Jobs run on when the agent stops; the next agent re-attaches to them.
    }

    private void Handle(RunLoopInbox.Signal signal)
    {
        switch (signal)
        {
            case RunLoopInbox.QueueChanged changed:
                // New jobs go to the end: a full window stays right unless a queued job left.
                if (changed.Reordered || _queue?.Count < QueueWindow)
                {
                    _queue = null;
                }
                break;
            case RunLoopInbox.Ended ended:
                if (_running.Remove(ended.Exit.Number, out var running))
                {
                    _ended.Add((running, ended.Exit));
                }
                break;
            case RunLoopInbox.ExecutorStateChanged changed:
                lifecycle.NoteExecutorState(changed.Number, changed.State);
                break;
            case RunLoopInbox.CancelRunning cancel:
                if (!_running.TryGetValue(cancel.Number, out var target))
                {
                    cancel.Done.TrySetResult(false);
                    break;
                }
                target.CancelRequested = true;
                target.Waiting.Add(cancel.Done);
                _ = TerminateAsync(target, cancel.Grace);
                break;
        }
    }

    private async Task StartWhatFitsAsync(CancellationToken stopping)
    {
        while (_running.Count < options.Slots && !stopping.IsCancellationRequested)
        {
            _queue ??= [.. lifecycle.Queued(QueueWindow)];
            if (SchedulingPolicy.PickNext(_queue, new FreeResources(options.Slots - _running.Count)) is not { } next)
            {
                return;
            }
            _queue.Remove(next);
            if (_queue.Count == 0)
            {
                _queue = null;
            }
            await StartAsync(next, stopping).ConfigureAwait(false);
        }
    }

    private async Task StartAsync(JobRecord job, CancellationToken stopping)
    {
        if (ExecutorOf(job) is not { } executor)
        {
            lifecycle.FailToStart(job, $"its executor '{job.Executor}' is not set up in this agent");
            return;
        }
        ExecutorStart start;
        try
        {
            start = await executor.StartAsync(job, stopping).ConfigureAwait(false);
        }
        catch (ExecutorStartException e)
        {
            lifecycle.FailToStart(job, e.Message);
            return;
        }
        if (lifecycle.MarkStarted(job, executor.Name, start) is not { } started)
        {
            // Canceled between being picked and being started.
            _ = executor.TerminateAsync(job with { ExecutorReference = start.Reference }, TimeSpan.FromSeconds(1));
            return;
        }
        _running[job.Number] = new Running(started, executor);
    }

    private void RecordEnded()
    {
        foreach (var (running, exit) in _ended)
        {
            lifecycle.RecordEnd(running.Job, exit, running.CancelRequested);
            foreach (var waiting in running.Waiting)
            {
                waiting.TrySetResult(true);
            }
        }
        _ended.Clear();
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
    }
}
