namespace Meeshkan.Agent.Telegram;

/// <summary>A Bot API call failed. The message never holds the bot token or a URL.</summary>
public sealed class TelegramApiException(string message, bool retryable, TimeSpan? retryAfter = null) : Exception(message)
{
    public bool Retryable { get; } = retryable;

    /// <summary>Telegram's <c>parameters.retry_after</c> of a 429 ("Too Many Requests: retry after N").</summary>
    public TimeSpan? RetryAfter { get; } = retryAfter;
}
