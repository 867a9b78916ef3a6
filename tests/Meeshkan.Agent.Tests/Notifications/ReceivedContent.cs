using System.Text.Json;
using MimeKit;

namespace Meeshkan.Agent.Tests.Notifications;

/// <summary>Reads what the receivers got: JSON bodies and multipart forms.</summary>
internal static class ReceivedContent
{
    public static JsonElement Json(this ReceivedRequest request) => JsonDocument.Parse(request.Body).RootElement;

    /// <summary>The parts of a multipart/form-data body, by form field name.</summary>
    public static IReadOnlyDictionary<string, MimePart> FormParts(this ReceivedRequest request)
    {
        Assert.That(request.ContentType, Does.StartWith("multipart/form-data"));
        var raw = System.Text.Encoding.ASCII.GetBytes($"Content-Type: {request.ContentType}\r\n\r\n").Concat(request.Body).ToArray();
        var entity = MimeEntity.Load(new MemoryStream(raw));
        var multipart = (Multipart)entity;
        return multipart.OfType<MimePart>().ToDictionary(p => p.ContentDisposition!.Parameters["name"]!.Trim('"'), p => p);
    }

    public static byte[] Bytes(this MimePart part)
    {
        using var stream = new MemoryStream();
        part.Content!.DecodeTo(stream);
        return stream.ToArray();
    }

    public static string Text(this MimePart part) => System.Text.Encoding.UTF8.GetString(part.Bytes());

    /// <summary>Every block's type, for Block Kit checks.</summary>
    public static IReadOnlyList<string> BlockTypes(JsonElement slack) =>
        slack.GetProperty("blocks").EnumerateArray().Select(b => b.GetProperty("type").GetString()!).ToList();

    /// <summary>All mrkdwn and plain text of a Slack message, joined.</summary>
    public static string SlackText(JsonElement slack)
    {
        var parts = new List<string>();
        foreach (var block in slack.GetProperty("blocks").EnumerateArray())
        {
            if (block.TryGetProperty("text", out var text))
            {
                parts.Add(text.GetProperty("text").GetString()!);
            }
            if (block.TryGetProperty("fields", out var fields))
            {
                parts.AddRange(fields.EnumerateArray().Select(f => f.GetProperty("text").GetString()!));
            }
            if (block.TryGetProperty("elements", out var elements))
            {
                parts.AddRange(elements.EnumerateArray().Select(f => f.GetProperty("text").GetString()!));
            }
        }
        return string.Join("\n", parts);
    }
}
