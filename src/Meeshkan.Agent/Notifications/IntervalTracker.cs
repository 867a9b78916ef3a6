using System.Collections.Concurrent;
using Meeshkan.Agent.Store;

namespace Meeshkan.Agent.Notifications;

/// <summary>
/// Knows when each running job's next interval report is due and whether new scalars arrived since the last one.
/// Marking is one dictionary lookup and a flag, cheap enough for every scalar batch.
/// </summary>
public sealed class IntervalTracker(TimeProvider time)
{
    private sealed class Track(JobRecord job, DateTimeOffset nextDue)
    {
        public JobRecord Job = job;
        public DateTimeOffset NextDue = nextDue;
        public volatile bool NewScalars;
        /// <summary>Values in the previous report; read and written by the notifier's one pump only.</summary>
        public Dictionary<string, double> Reported = new(StringComparer.Ordinal);
    }

    private readonly ConcurrentDictionary<long, Track> _tracks = new();

    /// <summary>Jobs that ended: a batch racing with the end must not start tracking them again.</summary>
    private readonly ConcurrentDictionary<long, byte> _ended = new();

    public void Started(JobRecord job) =>
        _tracks[job.Number] = new Track(job, (job.StartedAt ?? time.GetUtcNow()) + Interval(job));

    public void Ended(JobRecord job)
    {
        _ended[job.Number] = 0;
        _tracks.TryRemove(job.Number, out _);
    }

    public void ScalarsArrived(JobRecord job)
    {
        if (job.IsEnded || _ended.ContainsKey(job.Number))
        {
            return;
        }
        // A job this agent did not see start (adopted after a restart, or registered) is tracked from now.
        var track = _tracks.GetOrAdd(job.Number, static (_, state) => new Track(state.job, state.now + Interval(state.job)), (job, now: time.GetUtcNow()));
        track.NewScalars = true;
    }

    /// <summary>The jobs whose report is due now and that have new scalars; each one's next report is scheduled.</summary>
    public IReadOnlyList<JobRecord> TakeDue()
    {
        var now = time.GetUtcNow();
        List<JobRecord>? due = null;
        foreach (var track in _tracks.Values)
        {
            if (now < track.NextDue)
            {
                continue;
            }
            var interval = Interval(track.Job);
            while (track.NextDue <= now)
            {
                track.NextDue += interval;
            }
            if (track.NewScalars)
            {
                track.NewScalars = false;
                (due ??= []).Add(track.Job);
            }
        }
        return due ?? (IReadOnlyList<JobRecord>)[];
    }

    /// <summary>Swaps in the values of this report and returns those of the previous one (empty for the first).</summary>
    public IReadOnlyDictionary<string, double> ExchangeReported(long jobNumber, Dictionary<string, double> values)
    {
        if (!_tracks.TryGetValue(jobNumber, out var track))
        {
            return new Dictionary<string, double>();
        }
        var previous = track.Reported;
        track.Reported = values;
        return previous;
    }

    private static TimeSpan Interval(JobRecord job) =>
        TimeSpan.FromSeconds(job.ReportIntervalSeconds > 0 ? job.ReportIntervalSeconds : Services.JobServiceImpl.DefaultReportIntervalSeconds);
}
