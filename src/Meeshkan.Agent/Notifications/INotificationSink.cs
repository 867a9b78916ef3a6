namespace Meeshkan.Agent.Notifications;

/// <summary>A channel notifications go to. One attempt per call; the caller retries.</summary>
public interface INotificationSink
{
    /// <summary>The channel's name in the history: slack, discord, webhook, email.</summary>
    string Channel { get; }

    /// <summary>Sends once. Throws <see cref="DeliveryException"/> (or any I/O exception) when it did not arrive.</summary>
    Task SendAsync(Notification notification, CancellationToken cancel);
}

/// <summary>The receiver refused a message. <see cref="Retryable"/> is false when sending it again cannot help.</summary>
public sealed class DeliveryException(string reason, bool retryable, TimeSpan? retryAfter = null) : Exception(reason)
{
    public bool Retryable { get; } = retryable;

    /// <summary>How long the receiver asked to be left alone (HTTP 429 Retry-After, Telegram's retry_after).</summary>
    public TimeSpan? RetryAfter { get; } = retryAfter;
}
