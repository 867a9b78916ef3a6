namespace Meeshkan.Agent.Jobs;

/// <summary>How one attempt of a job ended, as far as retrying is concerned.</summary>
public enum AttemptEnd
{
    /// <summary>Its process exited (any status, or a signal the user did not send), or its end is unknown.</summary>
    Exited,

    /// <summary>It ran longer than its timeout and was terminated.</summary>
    TimedOut,

    /// <summary>A condition with the stop action was met and the agent stopped it: never retried.</summary>
    Stopped,

    /// <summary>The user canceled it: never retried.</summary>
    Canceled,
}

/// <summary>
/// Retries (submit --retries N --retry-delay D): whether a failed attempt is started again, and the words users see
/// about attempts. A pure function, tested without processes.
/// </summary>
public static class Attempts
{
    /// <summary>The most retries a job may ask for.</summary>
    public const int MaxRetries = 100;

    /// <summary>
    /// When attempt <paramref name="attempt"/> (1-based) of a job allowed <paramref name="retries"/> retries ended
    /// <paramref name="how"/> with <paramref name="exitCode"/>: the delay before the next attempt, or null when this
    /// attempt is the job's last (it succeeded, it was canceled or stopped, or no retry is left).
    /// </summary>
    public static TimeSpan? Retry(int attempt, int retries, TimeSpan delay, AttemptEnd how, int? exitCode)
    {
        var failed = how == AttemptEnd.TimedOut || (how == AttemptEnd.Exited && exitCode != 0);
        return failed && attempt <= retries ? delay : null;
    }

    /// <summary>"attempt 2 of 3 failed (exit 137), retrying in 30 s", for the notification and the job's events.</summary>
    public static string FailedAndRetrying(int attempt, int retries, string why, TimeSpan delay) =>
        $"attempt {attempt} of {retries + 1} failed ({why}), retrying " +
        (delay <= TimeSpan.Zero ? "now" : $"in {Seconds(delay)}");

    /// <summary>"attempt 2/3", for `list`; empty for a job that has no retries.</summary>
    public static string Shown(int attempt, int retries) => retries == 0 ? "" : $"attempt {Math.Max(attempt, 1)}/{retries + 1}";

    /// <summary>"exit 137", "timed out after 2h": why an attempt failed, in a few words.</summary>
    public static string Why(AttemptEnd how, int? exitCode, TimeSpan timeout, string? reason) => how switch
    {
        AttemptEnd.TimedOut => TimedOut(timeout),
        _ when exitCode is { } code => $"exit {code}",
        _ => reason ?? "its exit status is unknown",
    };

    /// <summary>The failure reason of a job that ran out of time: "timed out after 2h".</summary>
    public static string TimedOut(TimeSpan timeout) => $"timed out after {JobDuration.Format(timeout)}";

    private static string Seconds(TimeSpan delay) => delay.TotalSeconds < 120
        ? $"{Math.Round(delay.TotalSeconds):0} s"
        : JobDuration.Format(delay);
}
