using Meeshkan.Agent.Config;
using Meeshkan.Agent.Notifications.Sinks;

namespace Meeshkan.Cli.Setup;

/// <summary>
/// `meeshkan setup` in a terminal: one question per setting, the current value as the default. Secrets are never
/// shown (only whether they are set) and are typed without echo. Enter keeps a value, "-" removes it.
/// </summary>
internal static class SetupPrompts
{
    public static void Ask(AgentConfig config)
    {
        var python = Line("Python interpreter for .py jobs", config.Python ?? "python3");
        config.Python = python is null or "-" ? config.Python : python;
        var n = config.Notifications;
        Console.WriteLine();
        Console.WriteLine("Notification channels (Enter keeps the current value, '-' removes the channel).");

        var slack = Secret("Slack incoming webhook URL", n.Slack?.WebhookUrl);
        n.Slack = slack switch { "-" => null, null => n.Slack, _ => new SlackSettings { WebhookUrl = Url(slack) } };

        var discord = Secret("Discord webhook URL", n.Discord?.WebhookUrl);
        n.Discord = discord switch { "-" => null, null => n.Discord, _ => new DiscordSettings { WebhookUrl = Url(discord) } };

        var webhook = Secret("Generic webhook URL", n.Webhook?.Url);
        n.Webhook = webhook switch { "-" => null, null => n.Webhook, _ => new WebhookSettings { Url = Url(webhook), Secret = n.Webhook?.Secret } };
        if (n.Webhook is not null)
        {
            var secret = Secret("  Webhook signing secret (HMAC-SHA256)", n.Webhook.Secret);
            n.Webhook.Secret = secret switch { "-" => null, null => n.Webhook.Secret, _ => secret };
        }

        var host = Line("SMTP server for email", n.Email?.SmtpHost ?? "(none)");
        if (host == "-")
        {
            n.Email = null;
        }
        else if (host is not null && host != "(none)" || n.Email is not null)
        {
            var email = n.Email ?? new EmailSettings();
            email.SmtpHost = host is null or "(none)" ? email.SmtpHost : host;
            email.SmtpSecurity = SetupChanges.ParseSecurity(Line("  Security (starttls, tls, none)", Name(email.SmtpSecurity)) ?? Name(email.SmtpSecurity));
            var port = Line("  Port", email.EffectivePort.ToString(System.Globalization.CultureInfo.InvariantCulture));
            email.SmtpPort = port is null ? email.SmtpPort : int.TryParse(port, out var p) && p is > 0 and <= 65535 ? p : throw new ArgumentException("the port must be a number from 1 to 65535");
            var user = Line("  Login name ('-' for none)", email.SmtpUser ?? "-");
            email.SmtpUser = user is null ? email.SmtpUser : user == "-" ? null : user;
            if (email.SmtpUser is not null)
            {
                var password = Secret("  Password", email.SmtpPassword);
                email.SmtpPassword = password switch { "-" => null, null => email.SmtpPassword, _ => password };
            }
            var from = Line("  From address", email.From);
            email.From = from is null ? email.From : SetupChanges.CheckAddress(from, "from");
            var to = Line("  To addresses (comma-separated)", string.Join(", ", email.To));
            if (to is not null)
            {
                email.To = to.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(a => SetupChanges.CheckAddress(a, "to")).ToList();
            }
            n.Email = email;
        }
        Console.WriteLine();
    }

    /// <summary>The channels set up, without any secret: "slack, email (smtp.example.org)".</summary>
    public static string Describe(NotificationSettings n)
    {
        var parts = new List<string>();
        if (n.Slack is not null)
        {
            parts.Add("slack");
        }
        if (n.Discord is not null)
        {
            parts.Add("discord");
        }
        if (n.Webhook is not null)
        {
            parts.Add(n.Webhook.Secret is null ? "webhook (unsigned)" : "webhook (signed)");
        }
        if (n.Email is not null)
        {
            parts.Add($"email via {n.Email.SmtpHost}:{n.Email.EffectivePort} to {string.Join(", ", n.Email.To)}");
        }
        if (n.Telegram is not null)
        {
            parts.Add($"telegram to chat(s) {string.Join(", ", n.Telegram.ChatIds)}");
        }
        return parts.Count == 0 ? "none (the history is kept in the agent's database)" : string.Join(", ", parts);
    }

    private static string Name(SmtpSecurity security) => security switch
    {
        SmtpSecurity.Tls => "tls",
        SmtpSecurity.None => "none",
        _ => "starttls",
    };

    private static string Url(string url)
    {
        HttpSink.ParseUrl(url, "value");
        return url;
    }

    /// <summary>Null when the user kept the current value.</summary>
    private static string? Line(string question, string current)
    {
        Console.Write($"{question} [{current}]: ");
        var answer = Console.ReadLine()?.Trim();
        return string.IsNullOrEmpty(answer) ? null : answer;
    }

    /// <summary>Reads without echo; shows only whether a value is set. Null when the user kept it.</summary>
    private static string? Secret(string question, string? current)
    {
        Console.Write($"{question} [{(string.IsNullOrEmpty(current) ? "not set" : "set, hidden")}]: ");
        var text = new System.Text.StringBuilder();
        while (true)
        {
            var key = Console.ReadKey(intercept: true);
            if (key.Key == ConsoleKey.Enter)
            {
                break;
            }
            if (key.Key == ConsoleKey.Backspace)
            {
                if (text.Length > 0)
                {
                    text.Length--;
                }
                continue;
            }
            if (!char.IsControl(key.KeyChar))
            {
                text.Append(key.KeyChar);
            }
        }
        Console.WriteLine(text.Length > 0 ? "(entered)" : "");
        var answer = text.ToString().Trim();
        return answer.Length == 0 ? null : answer;
    }
}
