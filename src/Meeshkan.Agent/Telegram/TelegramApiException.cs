namespace Meeshkan.Agent.Telegram;

/// <summary>A Bot API call failed. The message never holds the bot token or a URL.</summary>
public sealed class TelegramApiException(string message, bool retryable) : Exception(message)
{
    public bool Retryable { get; } = retryable;
}
