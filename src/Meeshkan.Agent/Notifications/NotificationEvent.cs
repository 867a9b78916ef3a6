namespace Meeshkan.Agent.Notifications;

/// <summary>What a notification is about. <see cref="NotificationEventNames"/> gives the names stored and sent.</summary>
public enum NotificationEvent
{
    JobStarted,
    JobFinished,
    JobFailed,
    JobCanceled,
    IntervalReport,
    ConditionMet,
    Custom,
    Test,
    /// <summary>An attempt failed and a retry follows.</summary>
    AttemptFailed,
}

public static class NotificationEventNames
{
    /// <summary>The event's name in the history, the webhook body and the CLI (see NotificationRecord.event).</summary>
    public static string Name(this NotificationEvent e) => e switch
    {
        NotificationEvent.JobStarted => "job_started",
        NotificationEvent.JobFinished => "job_finished",
        NotificationEvent.JobFailed => "job_failed",
        NotificationEvent.JobCanceled => "job_canceled",
        NotificationEvent.IntervalReport => "interval_report",
        NotificationEvent.ConditionMet => "condition_met",
        NotificationEvent.Custom => "custom",
        NotificationEvent.Test => "test",
        NotificationEvent.AttemptFailed => "attempt_failed",
        _ => "unknown",
    };
}
