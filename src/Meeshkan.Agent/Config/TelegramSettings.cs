namespace Meeshkan.Agent.Config;

/// <summary>
/// A Telegram bot (made with @BotFather), under <c>notifications.telegram</c> in the config: notifications go to every
/// chat in <see cref="ChatIds"/>, and commands (/list, /status, /report, /logs, /cancel) are taken from those chats only.
/// </summary>
public sealed class TelegramSettings
{
    public const string DefaultApiUrl = "https://api.telegram.org";

    /// <summary>The bot's token (a secret: never logged).</summary>
    public string BotToken { get; set; } = "";

    /// <summary>Chats that receive notifications and may send commands (a user's id, or a group's negative id).</summary>
    public List<long> ChatIds { get; set; } = [];

    /// <summary>The Bot API's base address; another one only for a local Bot API server or tests.</summary>
    public string ApiUrl { get; set; } = DefaultApiUrl;

    /// <summary>Whether the agent long-polls for commands (default true); false sends notifications only.</summary>
    public bool Commands { get; set; } = true;
}
