using System.Net;

namespace Meeshkan.Agent.Notifications.Sinks;

/// <summary>What the HTTP sinks (and the Telegram bot) share: one HttpClient for the agent, and one way to judge a response.</summary>
internal static class HttpSink
{
    /// <summary>One client for every webhook and the Telegram Bot API; each attempt brings its own deadline.</summary>
    public static readonly HttpClient Client = new(new SocketsHttpHandler
    {
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        ConnectTimeout = TimeSpan.FromSeconds(10),
        AllowAutoRedirect = false,
    })
    {
        Timeout = Timeout.InfiniteTimeSpan,
        DefaultRequestHeaders = { { "User-Agent", $"meeshkan/{AgentOptions.Version}" } },
    };

    /// <summary>JSON as receivers expect it: no escaping of '+', '<', '&' or non-ASCII text beyond what JSON needs.</summary>
    public static readonly System.Text.Json.JsonSerializerOptions Json = new()
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>Posts and throws <see cref="DeliveryException"/> unless the receiver answered 2xx.</summary>
    public static async Task PostAsync(Uri url, HttpContent content, CancellationToken cancel, Action<HttpRequestMessage>? headers = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = content };
        headers?.Invoke(request);
        using var response = await Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancel).ConfigureAwait(false);
        if (response.IsSuccessStatusCode)
        {
            return;
        }
        var body = "";
        try
        {
            body = await response.Content.ReadAsStringAsync(cancel).ConfigureAwait(false);
        }
        catch (HttpRequestException)
        {
        }
        var retryAfter = RetryAfter(response, body);
        body = body.Length > 200 ? body[..200] + "…" : body;
        var code = (int)response.StatusCode;
        var retryable = code >= 500 || response.StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.RequestTimeout;
        var reason = $"HTTP {code} {response.ReasonPhrase}" + (body.Length > 0 ? $": {body.ReplaceLineEndings(" ")}" : "");
        throw new DeliveryException(reason, retryable, retryAfter);
    }

    /// <summary>
    /// How long a receiver that answered 429 or 503 asked to wait: the Retry-After header (Slack, Discord, any HTTP
    /// server), else Discord's <c>retry_after</c> (seconds) in a JSON body. Null when it did not say.
    /// </summary>
    public static TimeSpan? RetryAfter(HttpResponseMessage response, string? body)
    {
        if (response.StatusCode is not (HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable))
        {
            return null;
        }
        if (response.Headers.RetryAfter is { } header)
        {
            var wait = header.Delta ?? (header.Date is { } date ? date - DateTimeOffset.UtcNow : null);
            if (wait is { } positive)
            {
                return positive < TimeSpan.Zero ? TimeSpan.Zero : positive;
            }
        }
        if (!string.IsNullOrEmpty(body))
        {
            try
            {
                if (System.Text.Json.Nodes.JsonNode.Parse(body)?["retry_after"]?.GetValue<double>() is { } seconds and >= 0)
                {
                    return TimeSpan.FromSeconds(seconds);
                }
            }
            catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException or FormatException)
            {
            }
        }
        return null;
    }

    public static Uri ParseUrl(string url, string what)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
        {
            // The value itself is a secret: never quote it.
            throw new ArgumentException($"the {what} is not an http(s) URL");
        }
        return uri;
    }
}
