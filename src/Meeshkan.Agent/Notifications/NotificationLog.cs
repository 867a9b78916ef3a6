using Microsoft.Extensions.Logging;

namespace Meeshkan.Agent.Notifications;

/// <summary>The notifier's log lines. Reasons are redacted before they get here; settings never do.</summary>
internal static partial class NotificationLog
{
    [LoggerMessage(100, LogLevel.Warning, "Notification {Event} for job {Job} to {Channel} failed (attempt {Attempt} of {Attempts}): {Reason}")]
    public static partial void AttemptFailed(ILogger logger, string @event, long job, string channel, int attempt, int attempts, string reason);

    [LoggerMessage(101, LogLevel.Information, "Notification {Event} for job {Job} sent to {Channel} (attempt {Attempt})")]
    public static partial void Sent(ILogger logger, string @event, long job, string channel, int attempt);

    [LoggerMessage(102, LogLevel.Warning, "Notification queue is full; dropped {Event} for job {Job}")]
    public static partial void QueueFull(ILogger logger, string @event, long job);

    [LoggerMessage(103, LogLevel.Error, "Could not compose notification {Event} for job {Job}")]
    public static partial void ComposeFailed(ILogger logger, string @event, long job, Exception exception);

    [LoggerMessage(104, LogLevel.Error, "Could not record a notification attempt: {Reason}")]
    public static partial void RecordFailed(ILogger logger, string reason);

    [LoggerMessage(105, LogLevel.Information, "Notification channels: {Channels}")]
    public static partial void Channels(ILogger logger, string channels);

    [LoggerMessage(106, LogLevel.Warning, "Could not re-read the config file; keeping the notification channels as they were: {Reason}")]
    public static partial void ReloadFailed(ILogger logger, string reason);

    [LoggerMessage(107, LogLevel.Error, "Job observer failed in the notifier")]
    public static partial void ObserverFailed(ILogger logger, Exception exception);
}
