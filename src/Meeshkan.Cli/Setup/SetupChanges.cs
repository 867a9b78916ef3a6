using Meeshkan.Agent.Config;
using Meeshkan.Agent.Notifications.Sinks;

namespace Meeshkan.Cli.Setup;

/// <summary>What `meeshkan setup` flags ask to change; applied to the config with every value checked first.</summary>
internal sealed record SetupChanges(
    string? Python,
    string? SlackWebhook, bool NoSlack,
    string? DiscordWebhook, bool NoDiscord,
    string? WebhookUrl, string? WebhookSecret, bool NoWebhook,
    string? SmtpHost, int? SmtpPort, string? SmtpUser, string? SmtpPassword, string? SmtpSecurity,
    string? EmailFrom, string[]? EmailTo, bool NoEmail)
{
    public bool Any =>
        Python is not null || SlackWebhook is not null || NoSlack || DiscordWebhook is not null || NoDiscord
        || WebhookUrl is not null || WebhookSecret is not null || NoWebhook || SmtpHost is not null || SmtpPort is not null
        || SmtpUser is not null || SmtpPassword is not null || SmtpSecurity is not null || EmailFrom is not null
        || EmailTo is { Length: > 0 } || NoEmail;

    /// <summary>Throws <see cref="ArgumentException"/> (never quoting a secret) when a value is not usable.</summary>
    public void ApplyTo(AgentConfig config)
    {
        if (Python is not null)
        {
            config.Python = Python.Length == 0 ? null : Python;
        }
        var n = config.Notifications;
        if (NoSlack)
        {
            n.Slack = null;
        }
        if (SlackWebhook is not null)
        {
            HttpSink.ParseUrl(SlackWebhook, "--slack-webhook value");
            n.Slack = new SlackSettings { WebhookUrl = SlackWebhook };
        }
        if (NoDiscord)
        {
            n.Discord = null;
        }
        if (DiscordWebhook is not null)
        {
            HttpSink.ParseUrl(DiscordWebhook, "--discord-webhook value");
            n.Discord = new DiscordSettings { WebhookUrl = DiscordWebhook };
        }
        if (NoWebhook)
        {
            n.Webhook = null;
        }
        if (WebhookUrl is not null)
        {
            HttpSink.ParseUrl(WebhookUrl, "--webhook-url value");
            n.Webhook = new WebhookSettings { Url = WebhookUrl, Secret = n.Webhook?.Secret };
        }
        if (WebhookSecret is not null)
        {
            if (n.Webhook is null)
            {
                throw new ArgumentException("--webhook-secret needs --webhook-url (no webhook is set up)");
            }
            n.Webhook.Secret = WebhookSecret.Length == 0 ? null : WebhookSecret;
        }
        if (NoEmail)
        {
            n.Email = null;
        }
        ApplyEmail(n);
    }

    private void ApplyEmail(NotificationSettings n)
    {
        var touched = SmtpHost is not null || SmtpPort is not null || SmtpUser is not null || SmtpPassword is not null
            || SmtpSecurity is not null || EmailFrom is not null || EmailTo is { Length: > 0 };
        if (!touched)
        {
            return;
        }
        var email = n.Email ?? new EmailSettings();
        if (SmtpHost is not null)
        {
            email.SmtpHost = SmtpHost;
        }
        if (SmtpPort is { } port)
        {
            email.SmtpPort = port is >= 0 and <= 65535 ? port : throw new ArgumentException("--smtp-port must be between 1 and 65535");
        }
        if (SmtpUser is not null)
        {
            email.SmtpUser = SmtpUser.Length == 0 ? null : SmtpUser;
        }
        if (SmtpPassword is not null)
        {
            email.SmtpPassword = SmtpPassword.Length == 0 ? null : SmtpPassword;
        }
        if (SmtpSecurity is not null)
        {
            email.SmtpSecurity = ParseSecurity(SmtpSecurity);
        }
        if (EmailFrom is not null)
        {
            email.From = CheckAddress(EmailFrom, "--email-from");
        }
        if (EmailTo is { Length: > 0 })
        {
            email.To = EmailTo.SelectMany(t => t.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                .Select(a => CheckAddress(a, "--email-to")).ToList();
        }
        if (string.IsNullOrWhiteSpace(email.SmtpHost) || string.IsNullOrWhiteSpace(email.From) || email.To.Count == 0)
        {
            throw new ArgumentException("email needs --smtp-host, --email-from and --email-to");
        }
        n.Email = email;
    }

    public static SmtpSecurity ParseSecurity(string value) => value.Trim().ToLowerInvariant() switch
    {
        "starttls" or "start_tls" => Agent.Config.SmtpSecurity.StartTls,
        "tls" or "ssl" => Agent.Config.SmtpSecurity.Tls,
        "none" or "plain" => Agent.Config.SmtpSecurity.None,
        _ => throw new ArgumentException($"--smtp-security must be starttls, tls or none, not '{value}'"),
    };

    public static string CheckAddress(string address, string what) =>
        MimeKit.MailboxAddress.TryParse(address.Trim(), out _) && address.Contains('@')
            ? address.Trim()
            : throw new ArgumentException($"{what}: '{address}' is not an email address");
}
