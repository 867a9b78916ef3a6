using System.Text.Json.Nodes;
using Meeshkan.Agent.Config;
using Meeshkan.Agent.Notifications;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Meeshkan.Agent.Telegram;

/// <summary>
/// Long-polls the Bot API for commands (outbound HTTPS only: no open port, works behind NAT) and answers the chats in
/// <c>chat_ids</c>; everything else is ignored and logged. Follows the config file, so `meeshkan setup` applies live.
/// </summary>
public sealed class TelegramBot(
    NotificationSettingsSource settings, TelegramCommands commands, TimeProvider time, ILogger<TelegramBot> logger) : BackgroundService
{
    /// <summary>Seconds the Bot API holds one getUpdates request open when nothing happens.</summary>
    public int PollSeconds { get; init; } = 25;

    /// <summary>How often the settings are looked at again while the bot is off.</summary>
    public TimeSpan IdleCheck { get; init; } = TimeSpan.FromSeconds(5);

    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(60);

    protected override async Task ExecuteAsync(CancellationToken stopping)
    {
        await Task.Yield();
        long offset = 0;
        var backoff = TimeSpan.FromSeconds(1);
        (string Key, TelegramBotApi Api)? current = null;
        while (!stopping.IsCancellationRequested)
        {
            var telegram = settings.Current.Telegram;
            if (telegram is not { Commands: true } || telegram.ChatIds.Count == 0 || string.IsNullOrWhiteSpace(telegram.BotToken))
            {
                current = null;
                await Delay(IdleCheck, stopping).ConfigureAwait(false);
                continue;
            }
            var key = $"{telegram.ApiUrl}\n{telegram.BotToken}";
            if (current?.Key != key)
            {
                try
                {
                    current = (key, new TelegramBotApi(telegram.ApiUrl, telegram.BotToken));
                    offset = 0;
                    TelegramLog.Polling(logger, string.Join(", ", telegram.ChatIds));
                }
                catch (ArgumentException e)
                {
                    TelegramLog.PollFailed(logger, IdleCheck.TotalSeconds, e.Message);
                    await Delay(IdleCheck, stopping).ConfigureAwait(false);
                    continue;
                }
            }
            var api = current.Value.Api;
            JsonArray updates;
            try
            {
                updates = await api.GetUpdatesAsync(offset, PollSeconds, stopping).ConfigureAwait(false);
                backoff = TimeSpan.FromSeconds(1);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                break;
            }
            catch (TelegramApiException e)
            {
                TelegramLog.PollFailed(logger, backoff.TotalSeconds, e.Message);
                await Delay(backoff, stopping).ConfigureAwait(false);
                backoff = TimeSpan.FromTicks(Math.Min(MaxBackoff.Ticks, backoff.Ticks * 2));
                continue;
            }
            foreach (var update in updates)
            {
                if (update?["update_id"]?.GetValue<long>() is not { } id)
                {
                    continue;
                }
                // Acknowledged with the next getUpdates, whatever happens here: a poison update is not replayed forever.
                offset = Math.Max(offset, id + 1);
                try
                {
                    await HandleAsync(api, update, telegram.ChatIds, stopping).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (stopping.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    TelegramLog.CommandFailed(logger, new Redactor([telegram.BotToken]).Redact($"{e.GetType().Name}: {e.Message}"));
                }
            }
        }
    }

    private async Task HandleAsync(TelegramBotApi api, JsonNode update, IReadOnlyCollection<long> allowed, CancellationToken cancel)
    {
        if (update["message"] is JsonObject message)
        {
            var chat = message["chat"]?["id"]?.GetValue<long>() ?? 0;
            var user = message["from"]?["id"]?.GetValue<long>() ?? 0;
            if (!allowed.Contains(chat))
            {
                TelegramLog.Ignored(logger, "message", chat, user);
                return;
            }
            var text = message["text"]?.GetValue<string>() ?? "";
            TelegramLog.Command(logger, text.Split(' ', 2)[0], chat);
            foreach (var reply in await commands.HandleMessageAsync(chat, text).ConfigureAwait(false))
            {
                await SendAsync(api, chat, reply, cancel).ConfigureAwait(false);
            }
        }
        else if (update["callback_query"] is JsonObject callback)
        {
            var id = callback["id"]?.GetValue<string>() ?? "";
            var chat = callback["message"]?["chat"]?["id"]?.GetValue<long>() ?? 0;
            var user = callback["from"]?["id"]?.GetValue<long>() ?? 0;
            if (!allowed.Contains(chat))
            {
                TelegramLog.Ignored(logger, "button press", chat, user);
                return;
            }
            var data = callback["data"]?.GetValue<string>() ?? "";
            TelegramLog.Command(logger, "button " + data, chat);
            var (reply, toast) = await commands.HandleCallbackAsync(chat, data).ConfigureAwait(false);
            try
            {
                await api.AnswerCallbackQueryAsync(id, toast, cancel).ConfigureAwait(false);
            }
            catch (TelegramApiException e)
            {
                TelegramLog.ReplyFailed(logger, chat, e.Message);
            }
            if (reply is not null)
            {
                await SendAsync(api, chat, reply, cancel).ConfigureAwait(false);
            }
        }
    }

    private async Task SendAsync(TelegramBotApi api, long chat, BotReply reply, CancellationToken cancel)
    {
        try
        {
            if (reply.Photo is { } png)
            {
                await api.SendPhotoAsync(chat, png, reply.Text, cancel).ConfigureAwait(false);
            }
            else
            {
                await api.SendMessageAsync(chat, reply.Text, reply.Keyboard, cancel).ConfigureAwait(false);
            }
        }
        catch (TelegramApiException e)
        {
            TelegramLog.ReplyFailed(logger, chat, e.Message);
        }
    }

    private async Task Delay(TimeSpan delay, CancellationToken stopping)
    {
        try
        {
            await Task.Delay(delay, time, stopping).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }
}
