using Meeshkan.Agent.Store;
using Meeshkan.V1;

namespace Meeshkan.Agent.Jobs;

/// <summary>
/// What the gRPC services, the Telegram commands (and the dashboard) read about jobs. Reads only: state changes are
/// <see cref="JobLifecycle"/>'s.
/// </summary>
public sealed class JobQueries(
    JobStore jobs, JobResolver resolver, NotificationStore notifications, ScalarStore scalars, ScalarBuckets buckets, ConditionStore conditions,
    ChangeStamp stamp)
{
    /// <summary>The job an identifier names (number, UUID or name), or a NotFound/InvalidRequest error.</summary>
    public JobRecord Resolve(string identifier) => resolver.Resolve(identifier);

    /// <summary>Every job the identifier names, the latest first (README, "Naming a job"); none is a not-found error.</summary>
    public IReadOnlyList<JobRecord> ResolveAll(string identifier) => resolver.ResolveAll(identifier);

    /// <summary>Every job an identifier names, the one to take first first; none is an empty list.</summary>
    public IReadOnlyList<JobRecord> FindAll(string identifier) => resolver.FindAll(identifier);

    /// <summary>The job an identifier names, or null.</summary>
    public JobRecord? Find(string identifier) => resolver.Find(identifier);

    public JobRecord? ByNumber(long number) => jobs.GetByNumber(number);

    /// <summary>Jobs, oldest first; only the given states when any; the latest <paramref name="limit"/> when positive.</summary>
    public IReadOnlyList<JobRecord> List(IReadOnlyCollection<JobState>? states = null, int limit = 0) => jobs.List(states, limit);

    /// <summary>Jobs this agent's executors run now (not those run outside the agent).</summary>
    public IReadOnlyList<JobRecord> RunByAgent() => jobs.List([JobState.Running]).Where(j => !j.External).ToList();

    /// <summary>Every ended attempt of a job, oldest first.</summary>
    public IReadOnlyList<(int Attempt, DateTimeOffset? StartedAt, DateTimeOffset FinishedAt, int? ExitCode, string? Reason)> Attempts(long number) =>
        jobs.Attempts(number);

    public IReadOnlyDictionary<JobState, long> CountByState() => jobs.CountByState();

    /// <summary>Each job's latest notification.</summary>
    public IReadOnlyDictionary<long, NotificationRecord> LatestNotifications() => notifications.LatestPerJob();

    public IReadOnlyList<NotificationRecord> Notifications(long jobNumber) => notifications.ForJob(jobNumber);

    /// <summary>How far each running job of <paramref name="listed"/> is: its latest `progress` and `eta seconds` scalars (tqdm).</summary>
    public IReadOnlyDictionary<(long Job, string Name), double> Progress(IEnumerable<JobRecord> listed) =>
        scalars.LatestOf(listed.Where(j => j.State == JobState.Running).Select(j => j.Number).ToList(),
            [OutputScalars.OutputParser.ProgressName, OutputScalars.OutputParser.EtaName]);

    /// <summary>Each scalar's latest value, in one attempt (0: the latest).</summary>
    public IReadOnlyList<ScalarSummary> LatestScalars(long jobNumber, int attempt = 0) => scalars.Latest(jobNumber, attempt);

    /// <summary>
    /// The attempt whose scalars are asked for (submit --retries: each attempt has its own): <paramref name="requested"/>,
    /// 1-based, or the latest (running or last run) for 0; a NotFound error for one the job has not had.
    /// </summary>
    public static int ScalarAttempt(JobRecord job, int requested)
    {
        var last = Math.Max(1, job.Attempt);
        if (requested == 0)
        {
            return last;
        }
        if (requested < 1 || requested > last)
        {
            throw new NotFoundException(job.Attempt == 0 && job.State == JobState.Queued
                ? $"job {job.Number} has not started yet: it has no attempt {requested}"
                : last == 1 ? $"job {job.Number} has one attempt (1), not {requested}" : $"job {job.Number} has attempts 1 to {last}, not {requested}");
        }
        return requested;
    }

    /// <summary>Each job's most recently reported scalar, by job number: its progress.</summary>
    public IReadOnlyDictionary<long, ScalarSummary> MostRecentScalarPerJob() => scalars.MostRecentPerJob();

    /// <summary>One job's most recently reported scalar, or null before its first.</summary>
    public ScalarSummary? MostRecentScalar(long jobNumber) => scalars.MostRecent(jobNumber);

    /// <summary>One scalar drawn at a chart's width (min and max per pixel column), or null when the job has no such scalar.</summary>
    public ScalarBuckets.Result? Chart(long jobNumber, string name, ScalarBuckets.Axis axis, double? from, double? to, int width) =>
        buckets.Read(jobNumber, name, axis, from, to, width);

    /// <summary>A cheap reading of what was added (jobs, notifications, condition firings), to compare with a later one.</summary>
    public ChangeStamp.Reading Stamp() => stamp.Read();

    /// <summary>The jobs that got a notification or a condition firing after the given reading.</summary>
    public IReadOnlyList<long> JobsTouchedSince(ChangeStamp.Reading since) => stamp.JobsTouchedSince(since);

    /// <summary>A scalar's values downsampled to about <paramref name="points"/> points.</summary>
    public IReadOnlyList<double> Trend(long jobNumber, string name, int points, int attempt = 0) =>
        scalars.Overview(jobNumber, name, points, attempt) is { } overview ? Charts.Downsampler.Lttb(overview.Steps, overview.Values, points).Y : [];

    /// <summary>Every point of one scalar, or a NotFound error naming the way to list them.</summary>
    public IReadOnlyList<ScalarPoint> History(JobRecord job, string name, int attempt = 0) =>
        scalars.History(job.Number, name, attempt) ?? throw new NotFoundException(
            $"job {job.Number} has no scalar named '{JobResolver.Printable(name)}'" + (job.Attempt > 1 ? $" in attempt {ScalarAttempt(job, attempt)}" : "") +
            $"; `meeshkan report {job.Number}` lists its scalars");

    public IReadOnlyList<ConditionEvent> ConditionEvents(long jobNumber) => conditions.ConditionEvents(jobNumber);

    /// <summary>The condition met that stopped a job (its last stop-action firing), with the values that met it; null for any other job.</summary>
    public ConditionEvent? StoppedBy(JobRecord job) =>
        job.State == JobState.Failed && JobOutcome.IsStopReason(job.FailureReason)
            ? conditions.ConditionEvents(job.Number).LastOrDefault(e => e.Action == ConditionAction.Stop)
            : null;
}
