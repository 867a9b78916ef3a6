using Meeshkan.Agent.Jobs;

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
    public required string OutputDirectory { get; init; }
    /// <summary>The executor that runs it (<see cref="Executors.IJobExecutor.Name"/>); null until it starts.</summary>
    public string? Executor { get; init; }
    /// <summary>That executor's reference for it (local: "pid:start-ticks"); only the executor reads inside it.</summary>
    public string? ExecutorReference { get; init; }
    /// <summary>The executor's latest word on it while it has not ended (Slurm: "PENDING (Resources)").</summary>
    public string? ExecutorState { get; init; }

    /// <summary>Higher starts first (submit --priority).</summary>
    public int Priority { get; init; }

    /// <summary>GPUs asked for, in quarters of a GPU (submit --gpus: 1/4 is 1, one GPU is 4).</summary>
    public int GpuQuarters { get; init; }

    /// <summary>The GPUs it may use (submit --gpu-ids), in order of preference; null: any.</summary>
    public IReadOnlyList<int>? GpuIds { get; init; }

    /// <summary>The GPUs it holds (running) or held (ended).</summary>
    public IReadOnlyList<int>? Gpus { get; init; }

    /// <summary>Its MEESHKAN_SLOT while it runs.</summary>
    public int? Slot { get; init; }

    /// <summary>Scalars are read from its output (submit --scalars-from-output): "" with the default patterns, else the user's
    /// --scalar-pattern; null: not read.</summary>
    public string? ScalarPattern { get; init; }
    /// <summary>Jobs that must all have FINISHED before it starts (submit --after).</summary>
    public IReadOnlyList<long> After { get; init; } = [];

    /// <summary>Jobs that must have ended, however, before it starts (submit --after-any).</summary>
    public IReadOnlyList<long> AfterAny { get; init; } = [];

    /// <summary>Seconds an attempt may run (submit --timeout); 0: no limit.</summary>
    public long TimeoutSeconds { get; init; }

    /// <summary>Times a failed attempt is started again (submit --retries), and the seconds between.</summary>
    public int Retries { get; init; }
    public long RetryDelaySeconds { get; init; }

    /// <summary>The condition that stops it when met (submit --stop-if).</summary>
    public string? StopIf { get; init; }

    /// <summary>The attempt running or last run, 1-based; 0 before the first start.</summary>
    public int Attempt { get; init; }

    /// <summary>When its next attempt may start, while it waits out a retry delay.</summary>
    public DateTimeOffset? RetryAt { get; init; }

    /// <summary>RUNNING between two attempts: the last failed, the next starts at <see cref="RetryAt"/>; no process runs.</summary>
    public bool BetweenAttempts => State == JobState.Running && RetryAt is not null;

    /// <summary>
    /// The attempt what the job reports now belongs to: the one running; for a job queued or between attempts, the one
    /// starting (its process may report before its start is recorded); 1 for a job that never counted attempts.
    /// </summary>
    public int ReportingAttempt => Math.Max(1, State == JobState.Queued || BetweenAttempts ? Attempt + 1 : Attempt);

    public TimeSpan? Timeout => TimeoutSeconds > 0 ? TimeSpan.FromSeconds(TimeoutSeconds) : null;

    public bool IsEnded => JobTransitions.IsEnd(State);

    /// <summary>Its output folder's files.</summary>
    public JobFolder Folder => new(OutputDirectory);
}
