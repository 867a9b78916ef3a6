using System.Globalization;
using Meeshkan.Agent.Config;

namespace Meeshkan.Cli.Setup;

/// <summary>`meeshkan setup --telegram-token T --telegram-chat ID [--telegram-api URL]`, or --no-telegram.</summary>
internal sealed record TelegramSetup(string? Token, string[]? Chats, string? ApiUrl, bool Remove)
{
    public bool Any => Token is not null || Chats is { Length: > 0 } || ApiUrl is not null || Remove;

    /// <summary>Throws <see cref="ArgumentException"/> (never quoting the token) when a value is not usable.</summary>
    public void ApplyTo(AgentConfig config)
    {
        var n = config.Notifications;
        if (Remove)
        {
            n.Telegram = null;
        }
        if (Token is null && Chats is not { Length: > 0 } && ApiUrl is null)
        {
            return;
        }
        var telegram = n.Telegram ?? new TelegramSettings();
        if (Token is not null)
        {
            telegram.BotToken = Token.Trim();
        }
        if (Chats is { Length: > 0 })
        {
            telegram.ChatIds = Chats.SelectMany(c => c.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                .Select(c => long.TryParse(c, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var id)
                    ? id
                    : throw new ArgumentException($"--telegram-chat: '{c}' is not a chat id (a number; groups have negative ids)"))
                .Distinct().ToList();
        }
        if (ApiUrl is not null)
        {
            telegram.ApiUrl = ApiUrl.Length == 0 ? TelegramSettings.DefaultApiUrl : ApiUrl;
        }
        if (telegram.BotToken.Length == 0 || telegram.ChatIds.Count == 0)
        {
            throw new ArgumentException("Telegram needs --telegram-token and --telegram-chat");
        }
        // Checks the address and the token's shape without quoting either.
        _ = new Agent.Telegram.TelegramBotApi(telegram.ApiUrl, telegram.BotToken);
        n.Telegram = telegram;
    }
}
