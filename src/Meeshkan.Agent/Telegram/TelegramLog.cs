using Microsoft.Extensions.Logging;

namespace Meeshkan.Agent.Telegram;

/// <summary>The bot's log lines. Never the bot token; messages from unknown chats are not quoted.</summary>
internal static partial class TelegramLog
{
    [LoggerMessage(400, LogLevel.Information, "Telegram bot: taking commands from chat(s) {Chats}")]
    public static partial void Polling(ILogger logger, string chats);

    [LoggerMessage(401, LogLevel.Warning, "Telegram bot: ignored a {Kind} from chat {Chat} (user {User}): not in chat_ids")]
    public static partial void Ignored(ILogger logger, string kind, long chat, long user);

    [LoggerMessage(402, LogLevel.Warning, "Telegram bot: polling failed, retrying in {DelaySeconds} s: {Reason}")]
    public static partial void PollFailed(ILogger logger, double delaySeconds, string reason);

    [LoggerMessage(403, LogLevel.Warning, "Telegram bot: could not answer chat {Chat}: {Reason}")]
    public static partial void ReplyFailed(ILogger logger, long chat, string reason);

    [LoggerMessage(404, LogLevel.Information, "Telegram bot: {Command} from chat {Chat}")]
    public static partial void Command(ILogger logger, string command, long chat);

    [LoggerMessage(405, LogLevel.Error, "Telegram bot: a command failed: {Reason}")]
    public static partial void CommandFailed(ILogger logger, string reason);
}
