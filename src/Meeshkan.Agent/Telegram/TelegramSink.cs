using System.Text;
using Meeshkan.Agent.Config;
using Meeshkan.Agent.Notifications;

namespace Meeshkan.Agent.Telegram;

/// <summary>
/// Notifications to a Telegram bot's chats: the text as one message (plain text, no markup to escape), then the
/// chart, when there is one, as a photo.
/// </summary>
public sealed class TelegramSink : INotificationSink
{
    private readonly TelegramBotApi _api;
    private readonly IReadOnlyList<long> _chats;

    public TelegramSink(TelegramSettings settings)
    {
        if (settings.ChatIds.Count == 0)
        {
            throw new ArgumentException("Telegram needs at least one chat id in chat_ids");
        }
        _api = new TelegramBotApi(settings.ApiUrl, settings.BotToken);
        _chats = settings.ChatIds;
    }

    public string Channel => "telegram";

    public async Task SendAsync(Notification notification, CancellationToken cancel)
    {
        var text = Text(notification);
        foreach (var chat in _chats)
        {
            try
            {
                await _api.SendMessageAsync(chat, text, null, cancel).ConfigureAwait(false);
                if (notification.ChartPng is { } png)
                {
                    await _api.SendPhotoAsync(chat, png, NotificationText.Title(notification), cancel).ConfigureAwait(false);
                }
            }
            catch (TelegramApiException e)
            {
                throw new DeliveryException(e.Message, e.Retryable, e.RetryAfter);
            }
        }
    }

    /// <summary>The message text: title, summary, fields, values and the stderr tail.</summary>
    public static string Text(Notification n)
    {
        var text = new StringBuilder();
        text.Append(NotificationText.Title(n)).Append('\n');
        var summary = n.Event is NotificationEvent.Custom or NotificationEvent.Test ? n.Message ?? "" : NotificationText.Summary(n);
        if (summary.Length > 0)
        {
            text.Append(summary).Append('\n');
        }
        text.Append('\n');
        foreach (var (label, value) in NotificationText.Fields(n))
        {
            text.Append(label).Append(": ").Append(value).Append('\n');
        }
        if (n.Scalars.Count > 0)
        {
            text.Append('\n').Append(NotificationText.ScalarTable(n.Scalars)).Append('\n');
        }
        if (n.StderrTail.Count > 0)
        {
            var tail = string.Join('\n', n.StderrTail);
            var room = TelegramBotApi.MaxText - text.Length - 40;
            if (room > 100)
            {
                text.Append($"\nLast {n.StderrTail.Count} lines of stderr:\n").Append(tail.Length > room ? "…" + tail[^(room - 1)..] : tail);
            }
        }
        return text.ToString().TrimEnd();
    }
}
