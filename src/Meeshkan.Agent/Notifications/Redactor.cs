using System.Text.RegularExpressions;

namespace Meeshkan.Agent.Notifications;

/// <summary>
/// Takes secrets out of text before it is logged or stored as a failure reason: every configured secret (webhook
/// URLs hold their token in the path), and any URL at all, since exception messages may quote the one requested.
/// </summary>
public sealed partial class Redactor(IEnumerable<string?> secrets)
{
    private readonly string[] _secrets = secrets.Where(s => !string.IsNullOrEmpty(s) && s.Length >= 4).Select(s => s!)
        .OrderByDescending(s => s.Length).ToArray();

    public string Redact(string text)
    {
        foreach (var secret in _secrets)
        {
            text = text.Replace(secret, "***", StringComparison.Ordinal);
        }
        return UrlPattern().Replace(text, "<url>");
    }

    [GeneratedRegex(@"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'""<>)]+")]
    private static partial Regex UrlPattern();
}
