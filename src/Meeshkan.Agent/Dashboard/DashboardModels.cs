namespace Meeshkan.Agent.Dashboard;

// What the dashboard's JSON carries. Times are milliseconds since the Unix epoch. Nothing secret is ever here: no
// environment, no token, no channel address.

/// <summary>One row of the jobs page.</summary>
internal sealed record JobRow(
    long Number, string Id, string Name, string State, IReadOnlyList<string> Command, long CreatedAt, long? StartedAt, long? FinishedAt,
    int? ExitCode, string? FailureReason, bool External, IReadOnlyList<string>? Gpus, Progress? Progress, NotificationRow? LastNotification);

/// <summary>The most recent scalar a job reported.</summary>
internal sealed record Progress(string Name, double? Value, long Step, long Time, long Count);

internal sealed record NotificationRow(long Time, string Event, string Channel, string Status, string? Reason, int Attempt, string? Summary);

internal sealed record ConditionRow(string Description, long Time, IReadOnlyDictionary<string, double> Values);

internal sealed record ScalarRow(string Name, double? Value, long Step, long Time, long Count);

/// <summary>Everything the job page shows but its logs and charts.</summary>
internal sealed record JobDetail(
    JobRow Job, string WorkingDirectory, string OutputDirectory, int ReportIntervalSeconds, bool CanCancel, bool CanRetry,
    IReadOnlyList<ScalarRow> Scalars, IReadOnlyList<ConditionRow> Conditions, IReadOnlyList<NotificationRow> Notifications);

internal sealed record JobList(IReadOnlyList<JobRow> Jobs);

/// <summary>One scalar drawn at a chart's width (see Store/ScalarBuckets).</summary>
internal sealed record ChartData(string Name, string Axis, double From, double To, long Points, long Decoded, double[] X, double[] Y);

/// <summary>Bytes [Start, End) of a log file of Size bytes, as text.</summary>
internal sealed record LogSlice(string Stream, long Start, long End, long Size, string Text);

/// <summary>Points reported since the last event, per scalar (at most a few hundred each: thinned when more).</summary>
internal sealed record ScalarPoints(long Job, string Name, double[] Steps, double[] Times, double[] Values);

internal sealed record SessionInfo(string Csrf, string Version);

internal sealed record LoginCode(string Code, long ExpiresAt);

internal sealed record ErrorBody(string Error);
