using System.Diagnostics;
using System.Net;
using Meeshkan.Agent.Config;
using Meeshkan.V1;

namespace Meeshkan.Agent.Tests.Notifications;

/// <summary>
/// One job's notification flood does not delay another job's notifications, is merged into a few messages that say
/// how many were merged, and a receiver's 429 Retry-After is honoured (issue 14.10).
/// </summary>
[TestFixture]
public sealed class FairnessTests
{
    [Test]
    public async Task A_flood_of_10000_messages_from_one_job_does_not_delay_another_jobs_start_and_end()
    {
        using var slack = new HttpReceiver { Delay = TimeSpan.FromMilliseconds(5) };
        await using var bed = new NotifierTestBed(NotifierTestBed.Fast(s => s.Slack = new SlackSettings { WebhookUrl = slack.Url("/s") }));
        var flooding = bed.StartJob("flood");
        for (var i = 0; i < 10_000; i++)
        {
            bed.Observer.CustomMessage(flooding, $"message {i}");
        }
        var clock = Stopwatch.StartNew();
        var other = bed.StartJob("other");
        bed.EndJob(other, JobState.Finished, 0);
        var history = bed.WaitForHistory(other.Number, r => r.Count(x => x.Channel == "slack" && x.Status == NotificationStatus.Success) == 2, seconds: 30);
        var latency = clock.Elapsed;
        TestContext.Out.WriteLine($"the other job's start and end were delivered {latency.TotalMilliseconds:0} ms after the flood of 10,000 messages");
        Assert.That(latency, Is.LessThan(TimeSpan.FromSeconds(2)), "the other job's messages did not wait behind the flood");

        bed.EndJob(flooding, JobState.Finished, 0);
        var flood = bed.WaitForHistory(flooding.Number, r => r.Any(x => x.Channel == "slack" && x.Event == "job_finished"), seconds: 30)
            .Where(r => r.Channel == "slack").ToList();
        var texts = slack.Requests.Select(r => r.Text).ToList();
        Assert.That(flood.Count(r => r.Event == "custom"), Is.EqualTo(11), "10 at once (the burst), then the rest merged into one at the job's end");
        Assert.That(texts.Count(t => t.Contains("9990 messages from this job were merged", StringComparison.Ordinal)), Is.EqualTo(1));
        Assert.That(texts.Single(t => t.Contains("were merged", StringComparison.Ordinal)), Does.Contain("message 9999"), "quotes the last");
        Assert.That(flood.Select(r => r.Status), Is.All.EqualTo(NotificationStatus.Success), "nothing dropped");
    }

    [Test]
    public async Task Messages_beyond_the_rate_are_merged_and_sent_when_the_job_may_send_again()
    {
        using var slack = new HttpReceiver();
        await using var bed = new NotifierTestBed(NotifierTestBed.Fast(s =>
        {
            s.Slack = new SlackSettings { WebhookUrl = slack.Url("/s") };
            s.MessagesPerJobPerMinute = 60; // one a second once the burst is spent
        }));
        var job = bed.StartJob();
        for (var i = 0; i < 200; i++)
        {
            bed.Observer.CustomMessage(job, $"step {i}");
        }
        var merged = await WaitForAsync(() => slack.Requests.FirstOrDefault(r => r.Text.Contains("were merged", StringComparison.Ordinal)), seconds: 10);
        Assert.That(merged, Is.Not.Null, "the merged message went out while the job still runs");
        Assert.That(merged!.Text, Does.Contain("140 messages from this job were merged").And.Contain("step 199"));
    }

    [TestCase("slack")]
    [TestCase("discord")]
    [TestCase("telegram")]
    public async Task A_429_with_retry_after_is_honoured(string channel)
    {
        using var receiver = new HttpReceiver { OkBody = """{"ok":true,"result":{}}""" };
        receiver.Scripted.Enqueue(channel switch
        {
            "telegram" => (HttpStatusCode.TooManyRequests, """{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 2","parameters":{"retry_after":2}}""", null),
            "discord" => (HttpStatusCode.TooManyRequests, """{"message":"You are being rate limited.","retry_after":2.0,"global":false}""", null),
            _ => (HttpStatusCode.TooManyRequests, "rate limited", "2"),
        });
        await using var bed = new NotifierTestBed(NotifierTestBed.Fast(s =>
        {
            switch (channel)
            {
                case "slack": s.Slack = new SlackSettings { WebhookUrl = receiver.Url("/s") }; break;
                case "discord": s.Discord = new DiscordSettings { WebhookUrl = receiver.Url("/d") }; break;
                default: s.Telegram = new TelegramSettings { BotToken = "123:abc", ChatIds = [42], ApiUrl = receiver.Url("/"), Commands = false }; break;
            }
        }));
        var job = bed.StartJob();
        var history = bed.WaitForHistory(job.Number, r => r.Any(x => x.Channel == channel && x.Status == NotificationStatus.Success), seconds: 15);
        var requests = receiver.WaitFor(2);
        var waited = requests[1].At - requests[0].At;
        Assert.That(waited, Is.GreaterThanOrEqualTo(TimeSpan.FromSeconds(1.9)), "waited as the receiver asked, not the 0.1 s backoff");
        Assert.That(history.First(x => x.Channel == channel).Reason, Does.Contain("429").And.Contain("retrying in 2s"));
    }

    private static async Task<T?> WaitForAsync<T>(Func<T?> probe, int seconds) where T : class
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(seconds))
        {
            if (probe() is { } found)
            {
                return found;
            }
            await Task.Delay(50);
        }
        return null;
    }
}
