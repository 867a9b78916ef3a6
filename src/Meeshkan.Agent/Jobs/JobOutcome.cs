using Meeshkan.Agent.Executors;

namespace Meeshkan.Agent.Jobs;

/// <summary>How an exit becomes an end state and a reason: the same rule for every executor.</summary>
public static class JobOutcome
{
    public const string CanceledReason = "canceled by the user";

    public static (JobState State, string? Reason) Of(JobExit exit, bool canceled) =>
        canceled ? (JobState.Canceled, CanceledReason)
        : exit.ExitCode == 0 ? (JobState.Finished, null)
        : exit.ExitCode is { } code ? (JobState.Failed, exit.Reason ?? ExitReason(code))
        : (JobState.Failed, exit.Reason ?? "its exit status is unknown");

    /// <summary>The end state and reason of an attempt that ended <paramref name="how"/>.</summary>
    public static (JobState State, string? Reason) Of(JobExit exit, AttemptEnd how, TimeSpan? timeout, string? stopReason) => how switch
    {
        AttemptEnd.Canceled => (JobState.Canceled, CanceledReason),
        AttemptEnd.TimedOut => (JobState.Failed, Attempts.TimedOut(timeout ?? TimeSpan.Zero)),
        AttemptEnd.Stopped => (JobState.Failed, stopReason ?? StoppedByACondition),
        _ => Of(exit, canceled: false),
    };

    /// <summary>
    /// A failure the pipeline caused rather than the job's own exit (a dependency failed, it timed out, a stop condition
    /// stopped it): `list` shows it with the state.
    /// </summary>
    public static bool IsPipelineReason(string? reason) => reason is not null
        && (reason.StartsWith("dependency ", StringComparison.Ordinal) || reason.StartsWith("timed out after ", StringComparison.Ordinal)
            || IsStopReason(reason));

    /// <summary>A condition with the stop action stopped it (submit --stop-if, add_condition(..., action="stop")).</summary>
    public static bool IsStopReason(string? reason) => reason is not null
        && (reason.StartsWith("stopped by condition ", StringComparison.Ordinal) || reason == StoppedByACondition);

    private const string StoppedByACondition = "stopped by a condition";

    /// <summary>"exit status 3", or the signal for 128 + n as a shell reports it.</summary>
    public static string ExitReason(int code) => code > 128 && code < 160
        ? $"killed by signal {code - 128} (exit status {code})"
        : $"exit status {code}";
}
