using System.Diagnostics;
using System.Net;
using Meeshkan.Agent.Config;
using Meeshkan.Testing;
using Meeshkan.V1;

namespace Meeshkan.Agent.Tests.Notifications;

/// <summary>
/// A channel that answers 500, hangs, or refuses connections is retried with backoff, a bounded number of times,
/// and every attempt is recorded as FAILED with its reason; meanwhile the agent and the other channels go on.
/// </summary>
[TestFixture]
public sealed class DeliveryFailureTests
{
    private const string Token = "T000/B000/XXXXSECRETXXXX";

    [Test]
    public async Task A_channel_answering_500_is_retried_and_recorded_failed()
    {
        using var slack = new HttpReceiver { Status = HttpStatusCode.InternalServerError };
        await using var bed = new NotifierTestBed(NotifierTestBed.Fast(s => s.Slack = new SlackSettings { WebhookUrl = slack.Url("/services/" + Token) }));
        var job = bed.StartJob();

        var history = bed.WaitForHistory(job.Number, r => r.Count(x => x.Channel == "slack") == 3);

        Assert.That(slack.WaitFor(3), Has.Count.EqualTo(3), "three attempts reached the server");
        var attempts = history.Where(r => r.Channel == "slack").ToList();
        Assert.That(attempts.Select(a => a.Attempt), Is.EqualTo(new[] { 1, 2, 3 }));
        Assert.That(attempts.Select(a => a.Status), Is.All.EqualTo(NotificationStatus.Failed));
        Assert.That(attempts[0].Reason, Does.StartWith("HTTP 500").And.Contain("retrying in 0.1s"));
        Assert.That(attempts[1].Reason, Does.Contain("retrying in 0.2s"), "exponential backoff");
        Assert.That(attempts[2].Reason, Does.Contain("gave up after 3 attempts"));
        Assert.That(attempts.Select(a => a.Event), Is.All.EqualTo("job_started"));
        Thread.Sleep(500);
        Assert.That(slack.Requests, Has.Count.EqualTo(3), "bounded: no fourth attempt");
    }

    [Test]
    public async Task A_hanging_channel_times_out_and_does_not_hold_up_the_caller_or_the_other_channels()
    {
        using var hanging = new HttpReceiver { Delay = TimeSpan.FromSeconds(30) };
        using var slack = new HttpReceiver();
        await using var bed = new NotifierTestBed(NotifierTestBed.Fast(s =>
        {
            s.Webhook = new WebhookSettings { Url = hanging.Url("/hook/" + Token), Secret = "hmac-secret-value" };
            s.Slack = new SlackSettings { WebhookUrl = slack.Url("/s") };
        }));

        var clock = Stopwatch.StartNew();
        var job = bed.StartJob();
        for (var i = 0; i < 5; i++)
        {
            bed.Observer.CustomMessage(job, $"message {i}");
        }
        bed.EndJob(job, JobState.Finished, 0);
        var callerTime = clock.Elapsed;
        Assert.That(callerTime, Is.LessThan(TimeSpan.FromMilliseconds(200)), "observer calls only queue");

        // Slack gets all seven messages on time, while the webhook's first message is still being retried.
        var received = slack.WaitFor(7, seconds: 5);
        Assert.That(received.Max(r => r.At) - received.Min(r => r.At), Is.LessThan(TimeSpan.FromSeconds(2)));
        Assert.That(bed.History.ForJob(job.Number).Count(r => r.Channel == "webhook"), Is.LessThan(3), "the webhook is still on its first message");

        var history = bed.WaitForHistory(job.Number, r => r.Count(x => x.Channel == "webhook" && x.Event == "job_started") == 3);
        var attempts = history.Where(r => r.Channel == "webhook" && r.Event == "job_started").ToList();
        Assert.That(attempts.Select(a => a.Status), Is.All.EqualTo(NotificationStatus.Failed));
        Assert.That(attempts[0].Reason, Does.StartWith("no answer within 1s"));
        Assert.That(history.Where(r => r.Channel == "slack").Select(r => r.Status), Is.All.EqualTo(NotificationStatus.Success));
    }

    [Test]
    public async Task A_refused_connection_is_retried_and_recorded_without_leaking_the_url()
    {
        var port = Ports.Free();
        var url = $"http://127.0.0.1:{port}/api/webhooks/" + Token;
        await using var bed = new NotifierTestBed(NotifierTestBed.Fast(s =>
        {
            s.Discord = new DiscordSettings { WebhookUrl = url };
            s.Email = new EmailSettings
            {
                SmtpHost = "127.0.0.1", SmtpPort = Ports.Free(), SmtpSecurity = SmtpSecurity.None,
                SmtpUser = "me", SmtpPassword = "p4ssw0rd-secret", From = "a@example.org", To = ["b@example.org"],
            };
        }));
        var job = bed.StartJob();

        var history = bed.WaitForHistory(job.Number, r => r.Count(x => x.Channel is "discord" or "email") == 6);
        foreach (var channel in new[] { "discord", "email" })
        {
            var attempts = history.Where(r => r.Channel == channel).ToList();
            Assert.That(attempts.Select(a => a.Attempt), Is.EqualTo(new[] { 1, 2, 3 }), channel);
            Assert.That(attempts.Select(a => a.Status), Is.All.EqualTo(NotificationStatus.Failed), channel);
            Assert.That(attempts[0].Reason, Does.Contain("refused").IgnoreCase, channel);
        }
        foreach (var record in history)
        {
            Assert.That(record.Reason, Does.Not.Contain("SECRET").And.Not.Contain("p4ssw0rd").And.Not.Contain("/api/webhooks"));
        }
    }

    [Test]
    public async Task A_channel_set_up_wrongly_is_recorded_failed_at_once_with_the_reason()
    {
        await using var bed = new NotifierTestBed(NotifierTestBed.Fast(s => s.Slack = new SlackSettings { WebhookUrl = "not a url " + Token }));
        var job = bed.StartJob();
        var record = bed.WaitForHistory(job.Number, r => r.Any(x => x.Channel == "slack")).Single(x => x.Channel == "slack");
        Assert.That(record.Status, Is.EqualTo(NotificationStatus.Failed));
        Assert.That(record.Reason, Does.Contain("Slack webhook URL is not an http(s) URL").And.Contain("gave up after 1 attempt"));
        Assert.That(record.Reason, Does.Not.Contain("SECRET"));
    }

    [Test]
    public async Task Channels_changed_in_the_config_file_apply_without_a_restart()
    {
        using var first = new HttpReceiver();
        using var second = new HttpReceiver();
        var folder = Directory.CreateTempSubdirectory("mk-cfg-").FullName;
        var path = Path.Combine(folder, "config");
        var config = new AgentConfig { Notifications = NotifierTestBed.Fast(s => s.Slack = new SlackSettings { WebhookUrl = first.Url("/a") }) };
        config.Save(path);
        await using var bed = new NotifierTestBed(AgentConfig.Load(path).Notifications, path);

        var job = bed.StartJob();
        first.WaitFor(1);
        config.Notifications.Slack = null;
        config.Notifications.Webhook = new WebhookSettings { Url = second.Url("/b") };
        config.Save(path);
        File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddSeconds(1));
        bed.Observer.CustomMessage(job, "after setup");

        Assert.That(second.WaitFor(1)[0].Json().GetProperty("message").GetString(), Is.EqualTo("after setup"));
        Thread.Sleep(300);
        Assert.That(first.Requests, Has.Count.EqualTo(1));
        Assert.That(File.GetUnixFileMode(path), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));
        Directory.Delete(folder, recursive: true);
    }
}
