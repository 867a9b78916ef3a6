namespace Meeshkan.Agent.Config;

/// <summary>
/// The notification channels (sinks) the user set up with <c>meeshkan setup</c>, under <c>notifications</c> in the
/// config file. Every channel is optional; a null channel is off. Secrets here are never logged or printed.
/// </summary>
public sealed class NotificationSettings
{
    public SlackSettings? Slack { get; set; }

    public DiscordSettings? Discord { get; set; }

    public WebhookSettings? Webhook { get; set; }

    public EmailSettings? Email { get; set; }

    /// <summary>A Telegram bot: notifications to its chats, and commands from them (docs/remote.md).</summary>
    public TelegramSettings? Telegram { get; set; }

    /// <summary>Attempts per message and channel before it is recorded as given up (default 4).</summary>
    public int Attempts { get; set; } = 4;

    /// <summary>Seconds one attempt may take (default 10).</summary>
    public double TimeoutSeconds { get; set; } = 10;

    /// <summary>Seconds before the first retry; doubled for each further retry (default 2: 2, 4, 8).</summary>
    public double RetryDelaySeconds { get; set; } = 2;

    /// <summary>Messages of its own (meeshkan.notify) one job may send a minute, in a burst or spread (default 10); more are merged into one.</summary>
    public int MessagesPerJobPerMinute { get; set; } = 10;

    /// <summary>True when at least one channel is set up.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool AnyChannel => Slack is not null || Discord is not null || Webhook is not null || Email is not null || Telegram is not null;
}

/// <summary>A Slack incoming webhook (https://api.slack.com/messaging/webhooks).</summary>
public sealed class SlackSettings
{
    public string WebhookUrl { get; set; } = "";
}

/// <summary>A Discord channel webhook (Server settings, Integrations, Webhooks).</summary>
public sealed class DiscordSettings
{
    public string WebhookUrl { get; set; } = "";
}

/// <summary>Any HTTP endpoint that accepts Meeshkan's versioned JSON body (docs/notifications.md).</summary>
public sealed class WebhookSettings
{
    public string Url { get; set; } = "";

    /// <summary>When set, each body is signed: <c>X-Meeshkan-Signature: sha256=HEX(HMAC-SHA256(secret, body))</c>.</summary>
    public string? Secret { get; set; }
}

/// <summary>How the SMTP connection is secured.</summary>
public enum SmtpSecurity
{
    /// <summary>Plain connection, upgraded with STARTTLS (port 587).</summary>
    [System.Text.Json.Serialization.JsonStringEnumMemberName("starttls")]
    StartTls,

    /// <summary>TLS from the first byte (port 465).</summary>
    Tls,

    /// <summary>No encryption (a relay on localhost).</summary>
    None,
}

/// <summary>Email over SMTP.</summary>
public sealed class EmailSettings
{
    public string SmtpHost { get; set; } = "";

    /// <summary>0 means the usual port for <see cref="SmtpSecurity"/>: 587, 465 or 25.</summary>
    public int SmtpPort { get; set; }

    /// <summary>Login name; no login when empty.</summary>
    public string? SmtpUser { get; set; }

    public string? SmtpPassword { get; set; }

    public SmtpSecurity SmtpSecurity { get; set; } = SmtpSecurity.StartTls;

    public string From { get; set; } = "";

    public List<string> To { get; set; } = [];

    [System.Text.Json.Serialization.JsonIgnore]
    public int EffectivePort => SmtpPort > 0 ? SmtpPort : SmtpSecurity switch
    {
        SmtpSecurity.Tls => 465,
        SmtpSecurity.None => 25,
        _ => 587,
    };
}
