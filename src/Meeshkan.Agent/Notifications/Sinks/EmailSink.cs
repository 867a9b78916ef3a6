using System.Net;
using System.Text;
using MailKit.Net.Smtp;
using MailKit.Security;
using Meeshkan.Agent.Config;
using MimeKit;

namespace Meeshkan.Agent.Notifications.Sinks;

/// <summary>Email over SMTP with MailKit: an HTML body with the chart inline (cid:), and a plain-text alternative.</summary>
public sealed class EmailSink(EmailSettings settings) : INotificationSink
{
    public string Channel => "email";

    public async Task SendAsync(Notification notification, CancellationToken cancel)
    {
        var message = Message(settings, notification);
        using var client = new SmtpClient();
        try
        {
            var security = settings.SmtpSecurity switch
            {
                SmtpSecurity.Tls => SecureSocketOptions.SslOnConnect,
                SmtpSecurity.None => SecureSocketOptions.None,
                _ => SecureSocketOptions.StartTls,
            };
            await client.ConnectAsync(settings.SmtpHost, settings.EffectivePort, security, cancel).ConfigureAwait(false);
            if (!string.IsNullOrEmpty(settings.SmtpUser))
            {
                await client.AuthenticateAsync(new NetworkCredential(settings.SmtpUser, settings.SmtpPassword ?? ""), cancel).ConfigureAwait(false);
            }
            await client.SendAsync(message, cancel).ConfigureAwait(false);
            await client.DisconnectAsync(quit: true, cancel).ConfigureAwait(false);
        }
        catch (AuthenticationException)
        {
            throw new DeliveryException("the SMTP server refused the login (check smtp_user and smtp_password)", retryable: false);
        }
        catch (SmtpCommandException e)
        {
            // 5xx is permanent (bad address, relay denied); 4xx may pass later.
            throw new DeliveryException($"SMTP {(int)e.StatusCode}: {e.Message}", retryable: (int)e.StatusCode < 500);
        }
    }

    public static MimeMessage Message(EmailSettings settings, Notification n)
    {
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse(settings.From));
        foreach (var to in settings.To)
        {
            message.To.Add(MailboxAddress.Parse(to));
        }
        var title = NotificationText.Title(n);
        var summary = NotificationText.Summary(n);
        message.Subject = $"[meeshkan] {title}";
        message.Date = n.Time;
        message.Headers.Add("X-Meeshkan-Event", n.Event.Name());

        var body = new BodyBuilder { TextBody = PlainText(n, title, summary) };
        string? chartId = null;
        if (n.ChartPng is { } png)
        {
            var chart = body.LinkedResources.Add("chart.png", png, ContentType.Parse("image/png"));
            chart.ContentId = MimeKit.Utils.MimeUtils.GenerateMessageId();
            chartId = chart.ContentId;
        }
        body.HtmlBody = Html(n, title, summary, chartId);
        message.Body = body.ToMessageBody();
        return message;
    }

    private static string PlainText(Notification n, string title, string summary)
    {
        var text = new StringBuilder().AppendLine(title).AppendLine();
        text.AppendLine(n.Event is NotificationEvent.Custom or NotificationEvent.Test ? n.Message : summary).AppendLine();
        foreach (var (label, value) in NotificationText.Fields(n))
        {
            text.AppendLine($"{label}: {value}");
        }
        if (n.Scalars.Count > 0)
        {
            text.AppendLine().AppendLine(NotificationText.ScalarTable(n.Scalars));
        }
        if (n.StderrTail.Count > 0)
        {
            text.AppendLine().AppendLine($"Last {n.StderrTail.Count} lines of stderr:");
            foreach (var line in n.StderrTail)
            {
                text.AppendLine("  " + line);
            }
        }
        if (n.ChartPath is not null)
        {
            text.AppendLine().AppendLine($"Chart: {n.ChartPath}");
        }
        return text.ToString();
    }

    private static string Html(Notification n, string title, string summary, string? chartId)
    {
        static string E(string? s) => WebUtility.HtmlEncode(s ?? "");
        var html = new StringBuilder("<!DOCTYPE html><html><body style=\"font-family:sans-serif\">");
        html.Append($"<h2>{E(title)}</h2>");
        html.Append($"<p>{E(n.Event is NotificationEvent.Custom or NotificationEvent.Test ? n.Message : summary)}</p>");
        html.Append("<table cellpadding=\"4\">");
        foreach (var (label, value) in NotificationText.Fields(n))
        {
            html.Append($"<tr><th align=\"left\">{E(label)}</th><td>{E(value)}</td></tr>");
        }
        html.Append("</table>");
        if (n.Scalars.Count > 0)
        {
            html.Append($"<pre>{E(NotificationText.ScalarTable(n.Scalars))}</pre>");
        }
        if (chartId is not null)
        {
            html.Append($"<p><img src=\"cid:{E(chartId)}\" alt=\"chart of the job's scalars\" width=\"800\"></p>");
        }
        if (n.StderrTail.Count > 0)
        {
            html.Append($"<h3>Last {n.StderrTail.Count} lines of stderr</h3><pre>{E(string.Join('\n', n.StderrTail))}</pre>");
        }
        if (n.ChartPath is not null)
        {
            html.Append($"<p style=\"color:#888\">Chart saved to {E(n.ChartPath)} on {E(n.Host)}</p>");
        }
        return html.Append("</body></html>").ToString();
    }
}
