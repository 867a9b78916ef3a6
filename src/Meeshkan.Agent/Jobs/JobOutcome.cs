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

    /// <summary>"exit status 3", or the signal for 128 + n as a shell reports it.</summary>
    public static string ExitReason(int code) => code > 128 && code < 160
        ? $"killed by signal {code - 128} (exit status {code})"
        : $"exit status {code}";
}
