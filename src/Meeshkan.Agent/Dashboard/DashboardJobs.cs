using Meeshkan.Agent.Jobs;
using Meeshkan.Agent.Store;
using Meeshkan.V1;

namespace Meeshkan.Agent.Dashboard;

/// <summary>
/// The one class through which the dashboard reads and changes jobs: everything else in this folder speaks HTTP.
/// It maps the agent's records to the dashboard's rows (never the environment), so a change in how the agent keeps
/// jobs is a change here only.
/// </summary>
internal sealed class DashboardJobs(JobQueries queries, JobLifecycle lifecycle)
{
    /// <summary>Outcome of a cancel or retry: the job after it (for a retry, the new one), or why it could not be done.</summary>
    public sealed record Outcome(JobRow? Job, string? Refusal, bool NotFound = false);

    public IReadOnlyList<JobRow> List()
    {
        var latest = queries.LatestNotifications();
        var progress = queries.MostRecentScalarPerJob();
        return queries.List().Select(j => Row(j, latest.GetValueOrDefault(j.Number), progress.GetValueOrDefault(j.Number))).ToList();
    }

    public JobRow? Get(long number) => queries.ByNumber(number) is { } job ? Row(job) : null;

    public IReadOnlyList<JobRow> Since(long number) =>
        queries.List().Where(j => j.Number > number).Select(Row).ToList();

    public JobDetail? Detail(long number)
    {
        if (queries.ByNumber(number) is not { } job)
        {
            return null;
        }
        var records = queries.Notifications(number);
        var history = records.Select(ToRow).ToList();
        return new JobDetail(
            Row(job, records.Count > 0 ? records[^1] : null, queries.MostRecentScalar(number)), job.WorkingDirectory, job.OutputDirectory,
            job.ReportIntervalSeconds, CanCancel: !job.IsEnded && !job.External, CanRetry: job.IsEnded && !job.External,
            queries.LatestScalars(number).Select(s => new ScalarRow(s.Name, Finite(s.Value), s.Step, Millis(s.Time), s.Count)).ToList(),
            queries.ConditionEvents(number).Select(e => new ConditionRow(e.Description, Millis(e.Time), e.Values)).ToList(),
            history);
    }

    public ChartData? Chart(long number, string name, ScalarBuckets.Axis axis, double? from, double? to, int width)
    {
        var result = queries.Chart(number, name, axis, from, to, width);
        return result is null ? null
            : new ChartData(name, axis == ScalarBuckets.Axis.Time ? "time" : "step", result.From, result.To, result.Points, result.Decoded, result.X, result.Y);
    }

    /// <summary>The job's stdout or stderr file, or null when there is no such job.</summary>
    public string? LogPath(long number, string stream) =>
        queries.ByNumber(number) is { } job ? (stream == "stderr" ? job.Folder.Stderr : job.Folder.Stdout) : null;

    public async Task<Outcome> CancelAsync(long number)
    {
        if (queries.ByNumber(number) is not { } job)
        {
            return new Outcome(null, $"no job {number}", NotFound: true);
        }
        try
        {
            // The application layer decides (ended, external) and records the end.
            await lifecycle.CancelAsync(job).ConfigureAwait(false);
        }
        catch (NotAllowedException e)
        {
            return new Outcome(Row(job), e.Message);
        }
        return new Outcome(Get(number), null);
    }

    public Outcome Retry(long number)
    {
        if (queries.ByNumber(number) is not { } job)
        {
            return new Outcome(null, $"no job {number}", NotFound: true);
        }
        try
        {
            // The application layer decides (ended, external) and queues the new job.
            return new Outcome(Row(lifecycle.Retry(job)), null);
        }
        catch (JobException e) when (e is NotAllowedException or NotFoundException)
        {
            return new Outcome(Row(job), e.Message, NotFound: e is NotFoundException);
        }
    }

    public ChangeStamp.Reading Stamp() => queries.Stamp();

    public IReadOnlyList<long> TouchedSince(ChangeStamp.Reading since) => queries.JobsTouchedSince(since);

    private JobRow Row(JobRecord job) =>
        Row(job, queries.Notifications(job.Number) is { Count: > 0 } all ? all[^1] : null, queries.MostRecentScalar(job.Number));

    private static JobRow Row(JobRecord job, NotificationRecord? last, ScalarSummary? progress) => new(
        job.Number, job.Id, job.Name, StateName(job.State), job.Command, job.CreatedAt.ToUnixTimeMilliseconds(),
        job.StartedAt?.ToUnixTimeMilliseconds(), job.FinishedAt?.ToUnixTimeMilliseconds(), job.ExitCode, job.FailureReason, job.External,
        job.Gpus is { Count: > 0 } gpus ? gpus.Select(g => g.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToList() : null,
        progress is null ? null : new Progress(progress.Name, Finite(progress.Value), progress.Step, Millis(progress.Time), progress.Count),
        last is null ? null : ToRow(last));

    private static NotificationRow ToRow(NotificationRecord n) => new(
        Millis(n.Time), n.Event, n.Channel, n.Status.ToString().ToUpperInvariant(), NullIfEmpty(n.Reason), n.Attempt, NullIfEmpty(n.Summary));

    public static string StateName(JobState state) => state.ToString().ToUpperInvariant();

    private static long Millis(Google.Protobuf.WellKnownTypes.Timestamp? t) => t is null ? 0 : t.ToDateTimeOffset().ToUnixTimeMilliseconds();

    private static double? Finite(double value) => double.IsFinite(value) ? value : null;

    private static string? NullIfEmpty(string s) => string.IsNullOrEmpty(s) ? null : s;
}
