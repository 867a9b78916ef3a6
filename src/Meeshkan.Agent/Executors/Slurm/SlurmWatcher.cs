using System.Collections.Concurrent;
using System.Globalization;
using Meeshkan.V1;

namespace Meeshkan.Agent.Executors.Slurm;

/// <summary>How a Slurm job ended, in Meeshkan's words (Slurm's state and reason kept in <see cref="Reason"/>).</summary>
public sealed record SlurmEnd(long Number, JobState State, int? ExitCode, string? Reason, DateTimeOffset EndedAt);

/// <summary>What the watcher tells: a job's Slurm state changed, a job ended, slurmctld stopped or started answering.</summary>
public interface ISlurmWatcherEvents
{
    void StateChanged(long number, string state);

    void Ended(SlurmEnd end);

    void ControllerAnswers(bool answers, string? error);
}

/// <summary>
/// The one watcher for every Slurm job this agent knows: each poll is one <see cref="SlurmClient.PollAsync"/> (one
/// squeue call for all of them, one sacct call for those squeue forgot), never a call per job. While slurmctld does not
/// answer, every job keeps its last state, and the next answer brings them up to date. A job Slurm no longer knows
/// (over MinJobAge, no accounting) ends with the exit status its batch script left in its folder, or FAILED, unknown.
/// </summary>
public sealed class SlurmWatcher(SlurmClient client, ISlurmWatcherEvents events, TimeSpan interval, TimeProvider? clock = null)
{
    private sealed class Watched(long slurmId, string folder)
    {
        public long SlurmId { get; } = slurmId;
        public string Folder { get; } = folder;
        public string? Shown { get; set; }
        public int Missing { get; set; }
    }

    private readonly ConcurrentDictionary<long, Watched> _jobs = new();
    private readonly SemaphoreSlim _wake = new(0);
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;
    private bool _answers = true;
    private long _polls;

    /// <summary>Polls made so far (each one squeue call).</summary>
    public long Polls => Interlocked.Read(ref _polls);

    /// <summary>False after a poll slurmctld did not answer, until one it answers.</summary>
    public bool Answers => Volatile.Read(ref _answers);

    public int Count => _jobs.Count;

    /// <summary>Watches a job handed to Slurm (or re-attached after a restart) until it ends.</summary>
    public void Watch(long number, long slurmId, string folder)
    {
        var idle = _jobs.IsEmpty;
        _jobs[number] = new Watched(slurmId, folder);
        // A job just handed over is PENDING: the next poll, within the interval, is soon enough. Waking the watcher for
        // each one would make a burst of 50 submits 50 squeue calls competing with the sbatch calls (bench/slurm).
        if (idle)
        {
            _wake.Release();
        }
    }

    public long? SlurmIdOf(long number) => _jobs.TryGetValue(number, out var job) ? job.SlurmId : null;

    /// <summary>Polls at once rather than after the interval (a cancel was sent, say).</summary>
    public void PollSoon() => _wake.Release();

    /// <summary>Polls every <c>interval</c> while any job is watched; idle (no calls at all) while none is.</summary>
    public async Task RunAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            if (_jobs.IsEmpty && Answers)
            {
                await _wake.WaitAsync(stopping).ConfigureAwait(false);
                continue;
            }
            await PollOnceAsync(stopping).ConfigureAwait(false);
            // Sleeps the interval, or less when woken; wake-ups that came during the poll are used up here.
            await _wake.WaitAsync(interval, stopping).ConfigureAwait(false);
            while (_wake.CurrentCount > 0)
            {
                await _wake.WaitAsync(stopping).ConfigureAwait(false);
            }
        }
    }

    /// <summary>One poll of every watched job.</summary>
    public async Task PollOnceAsync(CancellationToken cancel = default)
    {
        var watched = _jobs.ToArray();
        if (watched.Length == 0 && Answers)
        {
            return;
        }
        Interlocked.Increment(ref _polls);
        // With no job to ask about (slurmctld was down at a submit), job id 0 probes whether it answers again.
        var ids = watched.Length > 0 ? watched.Select(w => w.Value.SlurmId).ToHashSet() : [0L];
        var poll = await client.PollAsync(ids, cancel).ConfigureAwait(false);
        if (poll.Reachable != Answers)
        {
            Volatile.Write(ref _answers, poll.Reachable);
            events.ControllerAnswers(poll.Reachable, poll.Error);
        }
        if (!poll.Reachable)
        {
            return;
        }
        foreach (var (number, job) in watched)
        {
            if (poll.Jobs.TryGetValue(job.SlurmId, out var status))
            {
                job.Missing = 0;
                if (status.IsEnded)
                {
                    var (state, exitCode, reason) = status.Outcome();
                    End(new SlurmEnd(number, state, exitCode, reason, status.EndedAt ?? _clock.GetUtcNow()));
                }
                else if (status.Describe() is var shown && shown != job.Shown)
                {
                    job.Shown = shown;
                    events.StateChanged(number, shown);
                }
            }
            // Twice in a row: one answer that misses a job is not enough to call it gone.
            else if (++job.Missing >= 2)
            {
                End(Forgotten(number, job));
            }
        }
    }

    /// <summary>slurmctld did not answer a submit: polls go on (even with no job) until it answers again.</summary>
    public void MarkDown()
    {
        Volatile.Write(ref _answers, false);
        _wake.Release();
    }

    /// <summary>Stops watching a job (its end was recorded some other way).</summary>
    public void Forget(long number) => _jobs.TryRemove(number, out _);

    private void End(SlurmEnd end)
    {
        if (_jobs.TryRemove(end.Number, out _))
        {
            events.Ended(end);
        }
    }

    private SlurmEnd Forgotten(long number, Watched job)
    {
        var file = Path.Combine(job.Folder, "exit_code");
        var id = job.SlurmId.ToString(CultureInfo.InvariantCulture);
        try
        {
            if (int.TryParse(File.ReadAllText(file).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var code))
            {
                var at = new DateTimeOffset(File.GetLastWriteTimeUtc(file), TimeSpan.Zero);
                return code == 0
                    ? new SlurmEnd(number, JobState.Finished, 0, null, at)
                    : new SlurmEnd(number, JobState.Failed, code, $"exit status {code} (Slurm {id} no longer known; the status its script recorded)", at);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
        return new SlurmEnd(number, JobState.Failed, null,
            $"Slurm no longer knows job {id} and keeps no accounting (sacct), and its script recorded no exit status: it was killed or its node failed",
            _clock.GetUtcNow());
    }
}
