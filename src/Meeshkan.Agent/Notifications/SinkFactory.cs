using Meeshkan.Agent.Config;
using Meeshkan.Agent.Notifications.Sinks;

namespace Meeshkan.Agent.Notifications;

/// <summary>Turns channel settings into sinks. A channel set up wrongly becomes a sink that always fails, with the reason.</summary>
public static class SinkFactory
{
    public static IReadOnlyList<INotificationSink> Create(NotificationSettings settings)
    {
        var sinks = new List<INotificationSink>();
        if (settings.Slack is { } slack)
        {
            sinks.Add(Guard("slack", () => new SlackSink(slack.WebhookUrl)));
        }
        if (settings.Discord is { } discord)
        {
            sinks.Add(Guard("discord", () => new DiscordSink(discord.WebhookUrl)));
        }
        if (settings.Webhook is { } webhook)
        {
            sinks.Add(Guard("webhook", () => new WebhookSink(webhook.Url, webhook.Secret)));
        }
        if (settings.Email is { } email)
        {
            sinks.Add(Guard("email", () =>
            {
                if (string.IsNullOrWhiteSpace(email.SmtpHost) || string.IsNullOrWhiteSpace(email.From) || email.To.Count == 0)
                {
                    throw new ArgumentException("email needs smtp_host, from and at least one address in to");
                }
                foreach (var address in email.To.Append(email.From))
                {
                    if (!MimeKit.MailboxAddress.TryParse(address, out _))
                    {
                        throw new ArgumentException("an email address in from or to is not valid");
                    }
                }
                return new EmailSink(email);
            }));
        }
        if (settings.Telegram is { } telegram)
        {
            sinks.Add(Guard("telegram", () => new Telegram.TelegramSink(telegram)));
        }
        return sinks;
    }

    /// <summary>Every secret in the settings, for <see cref="Redactor"/>.</summary>
    public static Redactor Redactor(NotificationSettings settings)
    {
        var secrets = new List<string?>
        {
            settings.Slack?.WebhookUrl, settings.Discord?.WebhookUrl, settings.Webhook?.Url, settings.Webhook?.Secret,
            settings.Email?.SmtpPassword, settings.Telegram?.BotToken,
        };
        foreach (var url in new[] { settings.Slack?.WebhookUrl, settings.Discord?.WebhookUrl, settings.Webhook?.Url })
        {
            if (Uri.TryCreate(url, UriKind.Absolute, out var uri))
            {
                secrets.Add(uri.PathAndQuery.Length > 1 ? uri.PathAndQuery : null);
            }
        }
        return new Redactor(secrets);
    }

    /// <summary>A key that changes whenever anything a channel's delivery depends on changes.</summary>
    public static string Fingerprint(NotificationSettings settings) => System.Text.Json.JsonSerializer.Serialize(settings, AgentJson.Default.NotificationSettings);

    private static INotificationSink Guard(string channel, Func<INotificationSink> create)
    {
        try
        {
            return create();
        }
        catch (ArgumentException e)
        {
            return new MisconfiguredSink(channel, e.Message);
        }
    }

    private sealed class MisconfiguredSink(string channel, string reason) : INotificationSink
    {
        public string Channel => channel;

        public Task SendAsync(Notification notification, CancellationToken cancel) =>
            throw new DeliveryException($"not set up correctly: {reason}; run `meeshkan setup`", retryable: false);
    }
}
