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

    /// <summary>Each scalar's latest value.</summary>
    public IReadOnlyList<ScalarSummary> LatestScalars(long jobNumber) => scalars.Latest(jobNumber);

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
    public IReadOnlyList<double> Trend(long jobNumber, string name, int points) =>
        scalars.Overview(jobNumber, name, points) is { } overview ? Charts.Downsampler.Lttb(overview.Steps, overview.Values, points).Y : [];

    /// <summary>Every point of one scalar, or a NotFound error naming the way to list them.</summary>
    public IReadOnlyList<ScalarPoint> History(JobRecord job, string name) =>
        scalars.History(job.Number, name) ?? throw new NotFoundException(
            $"job {job.Number} has no scalar named '{JobResolver.Printable(name)}'; `meeshkan report {job.Number}` lists its scalars");

    public IReadOnlyList<ConditionEvent> ConditionEvents(long jobNumber) => conditions.ConditionEvents(jobNumber);
}
