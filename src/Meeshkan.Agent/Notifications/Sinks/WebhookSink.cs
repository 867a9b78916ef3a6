using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Meeshkan.Agent.Notifications.Sinks;

/// <summary>
/// A generic webhook: a versioned JSON body (documented in docs/notifications.md), signed with
/// <c>X-Meeshkan-Signature: sha256=HEX</c> (HMAC-SHA256 of the exact body bytes) when a secret is set.
/// </summary>
public sealed class WebhookSink(string url, string? secret) : INotificationSink
{
    /// <summary>Version of the body. Fields are only ever added within one version.</summary>
    public const int Version = 1;
    public const string SignatureHeader = "X-Meeshkan-Signature";
    private readonly Uri _url = HttpSink.ParseUrl(url, "webhook URL");

    public string Channel => "webhook";

    public Task SendAsync(Notification notification, CancellationToken cancel)
    {
        var body = Encoding.UTF8.GetBytes(Body(notification).ToJsonString(HttpSink.Json));
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        return HttpSink.PostAsync(_url, content, cancel, request =>
        {
            request.Headers.Add("X-Meeshkan-Event", notification.Event.Name());
            request.Headers.Add("X-Meeshkan-Delivery", notification.DeliveryId);
            if (!string.IsNullOrEmpty(secret))
            {
                request.Headers.Add(SignatureHeader, Sign(secret, body));
            }
        });
    }

    /// <summary>The header value for a body: <c>sha256=</c> and the lowercase hex HMAC-SHA256.</summary>
    public static string Sign(string secret, byte[] body) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));

    public static JsonObject Body(Notification n)
    {
        var body = new JsonObject
        {
            ["version"] = Version,
            ["event"] = n.Event.Name(),
            ["delivery_id"] = n.DeliveryId,
            ["time"] = n.Time.ToUniversalTime().ToString("O"),
            ["host"] = n.Host,
            ["title"] = NotificationText.Title(n),
            ["summary"] = NotificationText.Summary(n),
            ["job"] = n.Job is { } job ? new JsonObject
            {
                ["id"] = job.Id,
                ["number"] = job.Number,
                ["name"] = job.Name,
                ["state"] = job.State.ToString().ToLowerInvariant(),
                ["command"] = new JsonArray(job.Command.Select(a => (JsonNode?)a).ToArray()),
                ["working_directory"] = job.WorkingDirectory,
                ["output_directory"] = job.OutputDirectory,
                ["report_interval_seconds"] = job.ReportIntervalSeconds,
                ["created_at"] = job.CreatedAt.ToUniversalTime().ToString("O"),
                ["started_at"] = job.StartedAt?.ToUniversalTime().ToString("O"),
                ["finished_at"] = job.FinishedAt?.ToUniversalTime().ToString("O"),
                ["duration_seconds"] = job is { StartedAt: { } s, FinishedAt: { } f } ? Math.Max(0, (f - s).TotalSeconds) : null,
                ["exit_code"] = job.ExitCode,
                ["failure_reason"] = job.FailureReason,
                ["external"] = job.External,
            } : null,
            ["scalars"] = new JsonArray(n.Scalars.Select(s => (JsonNode?)new JsonObject
            {
                ["name"] = s.Name,
                ["value"] = Number(s.Value),
                ["step"] = s.Step,
                ["change"] = s.Change is { } c ? Number(c) : null,
            }).ToArray()),
            ["condition"] = n.Condition is { } condition ? new JsonObject
            {
                ["id"] = condition.Id,
                ["description"] = condition.Description,
                ["values"] = new JsonObject(condition.Values.Select(v => KeyValuePair.Create(v.Key, (JsonNode?)Number(v.Value)))),
                ["only_reported"] = condition.OnlyReported,
            } : null,
            ["message"] = n.Message,
            ["stderr_tail"] = new JsonArray(n.StderrTail.Select(l => (JsonNode?)l).ToArray()),
            ["chart"] = n.ChartPng is { } png ? new JsonObject
            {
                ["path"] = n.ChartPath,
                ["png_base64"] = Convert.ToBase64String(png),
            } : null,
        };
        return body;
    }

    /// <summary>JSON has no NaN or infinity: those go as the strings "NaN", "Infinity", "-Infinity".</summary>
    private static JsonNode Number(double value) => double.IsFinite(value)
        ? JsonValue.Create(value)
        : JsonValue.Create(double.IsNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity");
}
