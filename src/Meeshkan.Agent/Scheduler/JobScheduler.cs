using Meeshkan.Agent.Config;
using Meeshkan.Agent.Store;
using Meeshkan.V1;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Meeshkan.Agent.Scheduler;

/// <summary>
/// Runs queued jobs one at a time, oldest first. On start it re-adopts the jobs an earlier agent left running.
/// </summary>
public sealed partial class JobScheduler(
    JobStore store, JobLauncher launcher, Scalars.UnsentScalars unsent, AgentConfig config, IEnumerable<IAgentObserver> observers, ILogger<JobScheduler> logger)
    : BackgroundService
{
    private readonly SemaphoreSlim _wake = new(0);
    private readonly Lock _gate = new();
    private RunningJob? _current;
    private long? _cancelRequested;
    // The oldest queued job, read while the running one runs so that the next starts without a query; dropped when
    // a cancel changes the queue (each cancel counts in _queueChanges).
    private JobRecord? _upcoming;
    private long _queueChanges;

    /// <summary>Tells the scheduler that the queue changed.</summary>
    public void Wake() => _wake.Release();

    /// <summary>The running job's number, if any.</summary>
    public long? CurrentJobNumber
    {
        get { lock (_gate) { return _current?.Number; } }
    }

    /// <summary>Cancels a job: a queued one at once, a running one with SIGTERM then SIGKILL. False when it had ended.</summary>
    public async Task<bool> CancelAsync(JobRecord job, TimeSpan? grace = null)
    {
        RunningJob? running;
        lock (_gate)
        {
            running = _current is { } c && c.Number == job.Number ? c : null;
            if (running is not null)
            {
                _cancelRequested = job.Number;
            }
        }
        if (running is null)
        {
            var canceled = store.MarkEnded(job.Number, JobState.Canceled, null, "canceled by the user");
            lock (_gate)
            {
                _queueChanges++;
                _upcoming = null;
            }
            if (canceled is not null)
            {
                Notify(canceled, o => o.JobEnded);
            }
            return canceled is not null;
        }
        await JobLauncher.TerminateAsync(running, grace ?? TimeSpan.FromSeconds(config.CancelGraceSeconds)).ConfigureAwait(false);
        await running.Exited.WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        // The run loop records the end; wait until it has, so the caller sees CANCELED.
        for (var i = 0; i < 200 && store.GetByNumber(job.Number)?.IsEnded == false; i++)
        {
            await Task.Delay(10).ConfigureAwait(false);
        }
        return true;
    }

    protected override async Task ExecuteAsync(CancellationToken stopping)
    {
        await Task.Yield();
        foreach (var job in store.List([JobState.Running]).Where(j => !j.External))
        {
            Log.Adopting(logger, job.Number, job.Pid ?? 0);
            var adopted = launcher.Adopt(job, stopping);
            SetCurrent(adopted);
            if (await ExitOf(adopted, stopping).ConfigureAwait(false) is not { } exit)
            {
                return;
            }
            RecordEnd(adopted, exit);
        }
        // A job that exits has its end recorded once the next job has started: the next one starts as soon as the
        // last ends, without waiting on the database (still one job at a time; bench/notes.md).
        (RunningJob Job, JobExit Exit)? exited = null;
        void RecordExited()
        {
            if (exited is { } last)
            {
                RecordEnd(last.Job, last.Exit);
                exited = null;
            }
        }
        while (true)
        {
            var next = stopping.IsCancellationRequested ? null : TakeNext();
            if (next is null)
            {
                if (exited is not null)
                {
                    RecordExited();
                    continue;
                }
                await _wake.WaitAsync(stopping).ConfigureAwait(false);
                continue;
            }
            var running = TryStart(next);
            RecordExited();
            if (running is null || !await MarkStartedAsync(next, running).ConfigureAwait(false))
            {
                continue;
            }
            ReadUpcoming();
            if (await ExitOf(running, stopping).ConfigureAwait(false) is not { } exit)
            {
                return;
            }
            exited = (running, exit);
        }
    }

    private JobRecord? TakeNext()
    {
        lock (_gate)
        {
            var upcoming = _upcoming;
            _upcoming = null;
            if (upcoming is not null)
            {
                return upcoming;
            }
        }
        return store.NextQueued();
    }

    private void ReadUpcoming()
    {
        long changes;
        lock (_gate)
        {
            changes = _queueChanges;
        }
        var upcoming = store.NextQueued();
        lock (_gate)
        {
            if (changes == _queueChanges)
            {
                _upcoming = upcoming;
            }
        }
    }

    /// <summary>The job's process, or null (and the job failed) when it could not start.</summary>
    private RunningJob? TryStart(JobRecord job)
    {
        try
        {
            var running = launcher.Start(job);
            SetCurrent(running);
            return running;
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            Log.CouldNotStart(logger, job.Number, e.Message);
            Notify(store.MarkEnded(job.Number, JobState.Failed, null, $"could not start: {e.Message}"), o => o.JobEnded);
            return null;
        }
    }

    private async Task<bool> MarkStartedAsync(JobRecord job, RunningJob running)
    {
        if (store.MarkRunning(job.Number, running.Pid, running.StartTicks) is not { } started)
        {
            // Canceled between being picked and being started.
            ClearCurrent(running);
            await JobLauncher.TerminateAsync(running, TimeSpan.FromSeconds(1)).ConfigureAwait(false);
            return false;
        }
        Log.Started(logger, job.Number, running.Pid);
        Notify(started, o => o.JobStarted);
        return true;
    }

    /// <summary>How the job ended, or null when the agent is stopping (the job runs on; the next agent adopts it).</summary>
    private static async Task<JobExit?> ExitOf(RunningJob running, CancellationToken stopping)
    {
        try
        {
            return await running.Exited.WaitAsync(stopping).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    private void RecordEnd(RunningJob running, JobExit exit)
    {
        bool canceled;
        lock (_gate)
        {
            canceled = _cancelRequested == running.Number;
        }
        var (state, reason) = canceled ? (JobState.Canceled, "canceled by the user")
            : exit.ExitCode == 0 ? (JobState.Finished, null)
            : exit.ExitCode is { } code ? (JobState.Failed, ExitReason(code))
            : (JobState.Failed, exit.Unknown);
        // What the job could not deliver before it exited, stored before its end is (the end notification has it).
        unsent.Ingest(running.Number);
        var ended = store.MarkEnded(running.Number, state, exit.ExitCode, reason);
        ClearCurrent(running);
        Log.Ended(logger, running.Number, state.ToString(), exit.ExitCode ?? -1);
        Notify(ended, o => o.JobEnded);
    }

    private void SetCurrent(RunningJob running)
    {
        lock (_gate)
        {
            _current = running;
        }
    }

    private void ClearCurrent(RunningJob running)
    {
        lock (_gate)
        {
            if (_current == running)
            {
                _current = null;
            }
            if (_cancelRequested == running.Number)
            {
                _cancelRequested = null;
            }
        }
    }

    private static string ExitReason(int code) => code > 128 && code < 160
        ? $"killed by signal {code - 128} (exit status {code})"
        : $"exit status {code}";

    private void Notify(JobRecord? job, Func<IAgentObserver, Action<JobRecord>> pick)
    {
        if (job is null)
        {
            return;
        }
        foreach (var observer in observers)
        {
            try
            {
                pick(observer)(job);
            }
            catch (Exception e)
            {
                Log.ObserverFailed(logger, observer.GetType().Name, e);
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Job {Number} started, pid {Pid}")]
        public static partial void Started(ILogger logger, long number, int pid);

        [LoggerMessage(2, LogLevel.Information, "Job {Number} ended: {State}, exit code {ExitCode}")]
        public static partial void Ended(ILogger logger, long number, string state, int exitCode);

        [LoggerMessage(3, LogLevel.Warning, "Job {Number} could not start: {Reason}")]
        public static partial void CouldNotStart(ILogger logger, long number, string reason);

        [LoggerMessage(4, LogLevel.Information, "Adopting job {Number} (pid {Pid}) started by an earlier agent")]
        public static partial void Adopting(ILogger logger, long number, int pid);

        [LoggerMessage(5, LogLevel.Error, "Job observer {Observer} failed")]
        public static partial void ObserverFailed(ILogger logger, string observer, Exception exception);
    }
}
