using System.Net.Http.Headers;
using System.Text.Json.Nodes;

namespace Meeshkan.Agent.Notifications.Sinks;

/// <summary>A Discord webhook: one embed, with the chart attached as a PNG and shown as the embed's image.</summary>
public sealed class DiscordSink(string webhookUrl) : INotificationSink
{
    public const string ChartFileName = "chart.png";
    private readonly Uri _url = HttpSink.ParseUrl(webhookUrl, "Discord webhook URL");

    public string Channel => "discord";

    public Task SendAsync(Notification notification, CancellationToken cancel)
    {
        var payload = new StringContent(Payload(notification).ToJsonString(HttpSink.Json), System.Text.Encoding.UTF8, "application/json");
        if (notification.ChartPng is not { } png)
        {
            return HttpSink.PostAsync(_url, payload, cancel);
        }
        var form = new MultipartFormDataContent { { payload, "payload_json" } };
        var file = new ByteArrayContent(png);
        file.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        form.Add(file, "files[0]", ChartFileName);
        return HttpSink.PostAsync(_url, form, cancel);
    }

    /// <summary>The JSON part (payload_json): Discord's limits are 256 characters of title, 4096 of description, 25 fields.</summary>
    public static JsonObject Payload(Notification n)
    {
        var description = n.Event is NotificationEvent.Custom or NotificationEvent.Test ? n.Message ?? "" : NotificationText.Summary(n);
        if (n.Scalars.Count > 0)
        {
            description += "\n```\n" + NotificationText.ScalarTable(n.Scalars) + "\n```";
        }
        if (n.StderrTail.Count > 0)
        {
            var tail = string.Join('\n', n.StderrTail).Replace("```", "'''");
            var room = 4096 - description.Length - 60;
            if (tail.Length > room)
            {
                tail = "…" + tail[^Math.Max(0, room - 1)..];
            }
            description += $"\n**Last {n.StderrTail.Count} lines of stderr**\n```\n{tail}\n```";
        }
        var fields = new JsonArray();
        foreach (var (label, value) in NotificationText.Fields(n).Take(25))
        {
            fields.Add((JsonNode)new JsonObject { ["name"] = label, ["value"] = Clip(value.Length == 0 ? "-" : value, 1024), ["inline"] = value.Length < 40 });
        }
        var embed = new JsonObject
        {
            ["title"] = Clip(NotificationText.Title(n), 256),
            ["description"] = Clip(description, 4096),
            ["color"] = Color(n.Event),
            ["fields"] = fields,
            ["timestamp"] = n.Time.ToString("O"),
            ["footer"] = new JsonObject { ["text"] = $"meeshkan on {n.Host}" },
        };
        var payload = new JsonObject
        {
            ["username"] = "Meeshkan",
            ["embeds"] = new JsonArray(embed),
            ["allowed_mentions"] = new JsonObject { ["parse"] = new JsonArray() },
        };
        if (n.ChartPng is not null)
        {
            embed["image"] = new JsonObject { ["url"] = "attachment://" + ChartFileName };
            payload["attachments"] = new JsonArray(new JsonObject { ["id"] = 0, ["filename"] = ChartFileName });
        }
        return payload;
    }

    private static int Color(NotificationEvent e) => e switch
    {
        NotificationEvent.JobFinished => 0x2EB67D,
        NotificationEvent.JobFailed => 0xE01E5A,
        NotificationEvent.JobCanceled => 0x8D8D8D,
        NotificationEvent.ConditionMet => 0xECB22E,
        NotificationEvent.IntervalReport => 0x7B61FF,
        _ => 0x36C5F0,
    };

    private static string Clip(string text, int max) => text.Length <= max ? text : text[..(max - 1)] + "…";
}
