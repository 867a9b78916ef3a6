using Meeshkan.V1;

namespace Meeshkan.Agent.Store;

/// <summary>One row of the jobs table.</summary>
public sealed record JobRecord
{
    public long Number { get; init; }
    public required string Id { get; init; }
    public required string Name { get; init; }
    public JobState State { get; init; }
    public required IReadOnlyList<string> Command { get; init; }
    public required string WorkingDirectory { get; init; }
    /// <summary>The submitter's environment. Secret: never sent back to any client.</summary>
    public IReadOnlyDictionary<string, string>? Environment { get; init; }
    public int ReportIntervalSeconds { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? FinishedAt { get; init; }
    public int? ExitCode { get; init; }
    public string? FailureReason { get; init; }
    public bool External { get; init; }
    public int? Pid { get; init; }
    public long? PidStartTicks { get; init; }
    public required string OutputDirectory { get; init; }

    public bool IsEnded => IsEndState(State);

    public static bool IsEndState(JobState state) => state is JobState.Finished or JobState.Failed or JobState.Canceled;
}
