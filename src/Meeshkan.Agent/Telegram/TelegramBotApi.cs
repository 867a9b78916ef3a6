using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Meeshkan.Agent.Notifications;

namespace Meeshkan.Agent.Telegram;

/// <summary>
/// The few Bot API methods the agent uses (https://core.telegram.org/bots/api): getUpdates, sendMessage, sendPhoto,
/// answerCallbackQuery. Every request goes to <c>{api}/bot{token}/{method}</c>, so failures are reworded without URLs.
/// </summary>
public sealed class TelegramBotApi
{
    /// <summary>Longest text of one message (Telegram's limit).</summary>
    public const int MaxText = 4096;

    /// <summary>Longest photo caption (Telegram's limit).</summary>
    public const int MaxCaption = 1024;

    private static HttpClient Client => Notifications.Sinks.HttpSink.Client;

    private readonly string _root;
    private readonly Redactor _redactor;

    public TelegramBotApi(string apiUrl, string botToken)
    {
        if (!Uri.TryCreate(apiUrl, UriKind.Absolute, out var api) || (api.Scheme != Uri.UriSchemeHttps && api.Scheme != Uri.UriSchemeHttp))
        {
            throw new ArgumentException("the Telegram api_url is not an http(s) URL");
        }
        if (string.IsNullOrWhiteSpace(botToken) || botToken.Any(c => char.IsWhiteSpace(c) || c == '/'))
        {
            throw new ArgumentException("the Telegram bot token is missing or malformed");
        }
        _root = api.ToString().TrimEnd('/') + "/bot" + botToken + "/";
        _redactor = new Redactor([botToken]);
    }

    /// <summary>Updates after <paramref name="offset"/>; the server holds the request up to <paramref name="timeoutSeconds"/>.</summary>
    public async Task<JsonArray> GetUpdatesAsync(long offset, int timeoutSeconds, CancellationToken cancel)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        deadline.CancelAfter(TimeSpan.FromSeconds(timeoutSeconds + 15));
        var body = new JsonObject
        {
            ["offset"] = offset,
            ["timeout"] = timeoutSeconds,
            ["allowed_updates"] = new JsonArray("message", "callback_query"),
        };
        return await CallAsync("getUpdates", body, deadline.Token, cancel).ConfigureAwait(false) as JsonArray ?? [];
    }

    public Task SendMessageAsync(long chatId, string text, JsonObject? replyMarkup, CancellationToken cancel)
    {
        var body = new JsonObject
        {
            ["chat_id"] = chatId,
            ["text"] = Clip(text.Length == 0 ? "(empty)" : text, MaxText),
            ["link_preview_options"] = new JsonObject { ["is_disabled"] = true },
        };
        if (replyMarkup is not null)
        {
            body["reply_markup"] = replyMarkup;
        }
        return CallAsync("sendMessage", body, cancel, cancel);
    }

    /// <summary>Uploads a PNG as multipart/form-data.</summary>
    public Task SendPhotoAsync(long chatId, byte[] png, string? caption, CancellationToken cancel)
    {
        var form = new MultipartFormDataContent
        {
            { new StringContent(chatId.ToString(System.Globalization.CultureInfo.InvariantCulture)), "chat_id" },
        };
        if (!string.IsNullOrEmpty(caption))
        {
            form.Add(new StringContent(Clip(caption, MaxCaption)), "caption");
        }
        var photo = new ByteArrayContent(png);
        photo.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        form.Add(photo, "photo", "chart.png");
        return SendAsync("sendPhoto", form, cancel, cancel);
    }

    public Task AnswerCallbackQueryAsync(string callbackQueryId, string? text, CancellationToken cancel)
    {
        var body = new JsonObject { ["callback_query_id"] = callbackQueryId };
        if (!string.IsNullOrEmpty(text))
        {
            body["text"] = Clip(text, 200);
        }
        return CallAsync("answerCallbackQuery", body, cancel, cancel);
    }

    public static string Clip(string text, int max) => text.Length <= max ? text : text[..(max - 1)] + "…";

    private Task<JsonNode?> CallAsync(string method, JsonObject body, CancellationToken request, CancellationToken caller) =>
        SendAsync(method, new StringContent(body.ToJsonString(), System.Text.Encoding.UTF8, "application/json"), request, caller);

    private async Task<JsonNode?> SendAsync(string method, HttpContent content, CancellationToken request, CancellationToken caller)
    {
        using (content)
        {
            try
            {
                using var response = await Client.PostAsync(_root + method, content, request).ConfigureAwait(false);
                var text = await response.Content.ReadAsStringAsync(request).ConfigureAwait(false);
                JsonNode? reply = null;
                try
                {
                    reply = JsonNode.Parse(text);
                }
                catch (System.Text.Json.JsonException)
                {
                }
                if (response.IsSuccessStatusCode && reply?["ok"]?.GetValue<bool>() == true)
                {
                    return reply["result"];
                }
                var code = (int)response.StatusCode;
                var description = reply?["description"]?.GetValue<string>() ?? response.ReasonPhrase ?? "no description";
                var retryAfter = reply?["parameters"]?["retry_after"]?.GetValue<double>() is { } seconds
                    ? TimeSpan.FromSeconds(seconds) : Notifications.Sinks.HttpSink.RetryAfter(response, null);
                throw new TelegramApiException(_redactor.Redact($"{method}: HTTP {code}: {description}"),
                    code >= 500 || code == 429, retryAfter);
            }
            catch (OperationCanceledException) when (!caller.IsCancellationRequested)
            {
                throw new TelegramApiException($"{method}: no answer in time", retryable: true);
            }
            catch (HttpRequestException e)
            {
                // Messages may quote the address, and the address holds the token.
                throw new TelegramApiException(_redactor.Redact($"{method}: {e.Message}"), retryable: true);
            }
        }
    }
}
