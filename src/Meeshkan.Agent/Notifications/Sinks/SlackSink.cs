using System.Text.Json.Nodes;

namespace Meeshkan.Agent.Notifications.Sinks;

/// <summary>
/// A Slack incoming webhook, sent as Block Kit. Webhooks take no files, so the values go in a monospace table and
/// the message says where the chart was saved.
/// </summary>
public sealed class SlackSink(string webhookUrl) : INotificationSink
{
    private const int MaxSectionText = 3000;
    private readonly Uri _url = HttpSink.ParseUrl(webhookUrl, "Slack webhook URL");

    public string Channel => "slack";

    public Task SendAsync(Notification notification, CancellationToken cancel) =>
        HttpSink.PostAsync(_url, new StringContent(Payload(notification).ToJsonString(HttpSink.Json), System.Text.Encoding.UTF8, "application/json"), cancel);

    /// <summary>The Block Kit message.</summary>
    public static JsonObject Payload(Notification n)
    {
        var title = NotificationText.Title(n);
        var summary = NotificationText.Summary(n);
        var blocks = new JsonArray(new JsonObject
        {
            ["type"] = "header",
            ["text"] = new JsonObject { ["type"] = "plain_text", ["text"] = Clip(title, 150), ["emoji"] = true },
        });
        var text = n.Event is NotificationEvent.Custom or NotificationEvent.Test ? n.Message ?? "" : summary;
        if (text.Length > 0)
        {
            blocks.Add(Section(Plain(text)));
        }
        var fields = new JsonArray();
        foreach (var (label, value) in NotificationText.Fields(n).Take(10))
        {
            fields.Add((JsonNode)new JsonObject { ["type"] = "mrkdwn", ["text"] = Clip($"*{Plain(label)}*\n{Plain(value)}", 2000) });
        }
        blocks.Add((JsonNode)new JsonObject { ["type"] = "section", ["fields"] = fields });
        if (n.Scalars.Count > 0)
        {
            blocks.Add(Section(CodeBlock(NotificationText.ScalarTable(n.Scalars), keepEnd: false)));
        }
        if (n.StderrTail.Count > 0)
        {
            blocks.Add(Section($"*Last {n.StderrTail.Count} lines of stderr*\n" + CodeBlock(string.Join('\n', n.StderrTail), keepEnd: true, room: MaxSectionText - 40)));
        }
        if (n.ChartPath is not null)
        {
            blocks.Add((JsonNode)new JsonObject
            {
                ["type"] = "context",
                ["elements"] = new JsonArray(
                    new JsonObject { ["type"] = "mrkdwn", ["text"] = Clip(Plain($"Chart: {n.ChartPath} on {n.Host}"), 2000) }),
            });
        }
        return new JsonObject { ["text"] = Clip(Escape($"{title}: {summary}"), 3000), ["blocks"] = blocks };
    }

    private static JsonNode Section(string mrkdwn) => new JsonObject
    {
        ["type"] = "section",
        ["text"] = new JsonObject { ["type"] = "mrkdwn", ["text"] = Clip(mrkdwn, MaxSectionText) },
    };

    /// <summary>A ``` block that fits in a section; a long stderr keeps its end, a long table its start.</summary>
    private static string CodeBlock(string text, bool keepEnd, int room = MaxSectionText)
    {
        text = Escape(text.Replace("```", "'''"));
        room -= 8;
        if (text.Length > room)
        {
            text = keepEnd ? "…" + text[^(room - 1)..] : text[..(room - 1)] + "…";
        }
        return "```\n" + text + "\n```";
    }

    /// <summary>
    /// Text shown as it is in mrkdwn: the control characters escaped, and a zero-width space after each of
    /// <c>* _ ~ `</c> at a word's edge (mrkdwn has no escape for those), so that a job named <c>*bold*</c> does not
    /// turn bold; <c>train_loss</c> stays as it is.
    /// </summary>
    private static string Plain(string text)
    {
        var escaped = Escape(text);
        if (escaped.IndexOfAny(['*', '_', '~', '`']) < 0)
        {
            return escaped;
        }
        var plain = new System.Text.StringBuilder(escaped.Length + 8);
        for (var i = 0; i < escaped.Length; i++)
        {
            var c = escaped[i];
            plain.Append(c);
            // Inside a word (train_loss) a marker formats nothing; at a word's edge it may open or close a style.
            var inWord = i > 0 && i < escaped.Length - 1 && char.IsLetterOrDigit(escaped[i - 1]) && char.IsLetterOrDigit(escaped[i + 1]);
            if (c is '*' or '_' or '~' or '`' && !inWord)
            {
                plain.Append('​');
            }
        }
        return plain.ToString();
    }

    /// <summary>Slack's three control characters in mrkdwn.</summary>
    private static string Escape(string text) => text.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");

    private static string Clip(string text, int max) => text.Length <= max ? text : text[..(max - 1)] + "…";
}
