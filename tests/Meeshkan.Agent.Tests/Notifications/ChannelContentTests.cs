using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Meeshkan.Agent.Config;
using Meeshkan.V1;
using MimeKit;

namespace Meeshkan.Agent.Tests.Notifications;

/// <summary>
/// Each event reaches each channel with the content a user relies on: real HTTP and SMTP receivers on 127.0.0.1
/// stand in for Slack, Discord, a webhook endpoint and a mail server.
/// </summary>
[TestFixture]
public sealed class ChannelContentTests
{
    [Test]
    public async Task Slack_gets_valid_Block_Kit_for_every_event()
    {
        using var slack = new HttpReceiver();
        await using var bed = new NotifierTestBed(NotifierTestBed.Fast(s => s.Slack = new SlackSettings { WebhookUrl = slack.Url("/services/T0/B0/tok") }));

        var job = bed.StartJob("resnet", reportIntervalSeconds: 1);
        bed.ReportCurves(job, 100);
        bed.Observer.CustomMessage(job, "epoch 3 done <great> & fast");
        bed.Observer.ConditionMet(job, Condition("cond-1", "eval_loss - train_loss > 0.2", ("eval_loss", 0.9), ("train_loss", 0.4)), onlyReported: true);
        var requests = slack.WaitFor(4);
        WriteStderr(job, 60);
        bed.EndJob(job, JobState.Failed, 3, "exit status 3");
        requests = slack.WaitFor(5);

        foreach (var request in requests)
        {
            Assert.That(request.Path, Is.EqualTo("/services/T0/B0/tok"));
            Assert.That(request.ContentType, Does.StartWith("application/json"));
            var message = request.Json();
            Assert.That(message.GetProperty("text").GetString(), Is.Not.Empty, "fallback text for notifications");
            var types = ReceivedContent.BlockTypes(message);
            Assert.That(types[0], Is.EqualTo("header"));
            Assert.That(types, Has.Some.EqualTo("section"));
            Assert.That(types, Is.All.AnyOf("header", "section", "context", "divider"));
            foreach (var block in message.GetProperty("blocks").EnumerateArray())
            {
                if (block.TryGetProperty("text", out var text))
                {
                    Assert.That(text.GetProperty("type").GetString(), Is.AnyOf("plain_text", "mrkdwn"));
                    Assert.That(text.GetProperty("text").GetString()!.Length, Is.InRange(1, 3000));
                }
                if (block.TryGetProperty("fields", out var fields))
                {
                    Assert.That(fields.GetArrayLength(), Is.InRange(1, 10));
                }
            }
        }
        var texts = requests.Select(r => ReceivedContent.SlackText(r.Json())).ToList();
        Assert.That(texts, Has.Some.Contains("started").And.Some.Contains("/usr/bin/python3 train.py --lr 0.1"));
        var report = texts.Single(t => t.Contains("progress report"));
        Assert.That(report, Does.Contain("train_loss").And.Contain("eval_loss").And.Contain("accuracy").And.Contain("```"), "values in a table");
        Assert.That(report, Does.Contain("Chart:").And.Contain("charts/"), "where the chart was saved");
        Assert.That(texts, Has.Some.Contains("epoch 3 done &lt;great&gt; &amp; fast"), "custom message, escaped for mrkdwn");
        var condition = texts.Single(t => t.Contains("condition met"));
        Assert.That(condition, Does.Contain("eval_loss - train_loss &gt; 0.2").And.Contain("eval_loss = 0.9"));
        Assert.That(condition, Does.Not.Contain("accuracy"), "only the condition's scalars when only_reported");
        var failed = texts.Single(t => t.Contains("failed"));
        Assert.That(failed, Does.Contain("stderr line 60").And.Contain("stderr line 11").And.Not.Contain("stderr line 10\n"), "the last 50 lines");
        Assert.That(failed, Does.Contain("Exit status*\n3"));
    }

    [Test]
    public async Task Discord_gets_an_embed_with_the_chart_attached_as_a_png()
    {
        using var discord = new HttpReceiver();
        await using var bed = new NotifierTestBed(NotifierTestBed.Fast(s => s.Discord = new DiscordSettings { WebhookUrl = discord.Url("/api/webhooks/1/tok") }));

        var job = bed.StartJob("resnet", reportIntervalSeconds: 1);
        bed.ReportCurves(job, 300);
        var requests = discord.WaitFor(2);

        var started = requests[0].Json();
        Assert.That(started.GetProperty("embeds")[0].GetProperty("title").GetString(), Is.EqualTo($"Job {job.Number} (resnet) started"));

        // The report with its chart (a start notification that timed out on a cold, loaded machine is sent again first).
        Meeshkan.Testing.Wait.For(() => discord.Requests.Any(r => r.ContentType.StartsWith("multipart/", StringComparison.Ordinal)), "the report with its chart");
        var report = discord.Requests.First(r => r.ContentType.StartsWith("multipart/", StringComparison.Ordinal));
        var parts = report.FormParts();
        Assert.That(parts.Keys, Is.EquivalentTo(new[] { "payload_json", "files[0]" }));
        var payload = JsonDocument.Parse(parts["payload_json"].Text()).RootElement;
        var embed = payload.GetProperty("embeds")[0];
        Assert.That(embed.GetProperty("title").GetString(), Does.Contain("progress report"));
        Assert.That(embed.GetProperty("description").GetString(), Does.Contain("train_loss"));
        Assert.That(embed.GetProperty("image").GetProperty("url").GetString(), Is.EqualTo("attachment://chart.png"));
        Assert.That(payload.GetProperty("attachments")[0].GetProperty("filename").GetString(), Is.EqualTo("chart.png"));

        var file = parts["files[0]"];
        Assert.That(file.ContentType.MimeType, Is.EqualTo("image/png"));
        Assert.That(file.FileName, Is.EqualTo("chart.png"));
        using var image = ChartTests.Decode(file.Bytes());
        Assert.That(ChartTests.PlotAreaInk(image), Is.GreaterThan(0.005));
    }

    [Test]
    public async Task The_generic_webhook_body_is_versioned_and_its_HMAC_verifies()
    {
        const string secret = "s3cret-shared-with-the-receiver";
        using var receiver = new HttpReceiver();
        await using var bed = new NotifierTestBed(NotifierTestBed.Fast(s => s.Webhook = new WebhookSettings { Url = receiver.Url("/hook"), Secret = secret }));

        var job = bed.StartJob("bert");
        bed.Report(job, ("loss", 0.5), ("loss", 0.25), ("acc", double.NaN));
        WriteStderr(job, 55);
        bed.EndJob(job, JobState.Failed, 1, "exit status 1");
        var requests = receiver.WaitFor(2);

        foreach (var request in requests)
        {
            var expected = "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), request.Body));
            Assert.That(request.Headers["X-Meeshkan-Signature"], Is.EqualTo(expected), "HMAC-SHA256 of the exact body");
            var wrong = "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData("not the secret"u8.ToArray(), request.Body));
            Assert.That(request.Headers["X-Meeshkan-Signature"], Is.Not.EqualTo(wrong));
            Assert.That(request.Json().GetProperty("version").GetInt32(), Is.EqualTo(1));
            Assert.That(request.Headers["X-Meeshkan-Event"], Is.EqualTo(request.Json().GetProperty("event").GetString()));
        }
        var failed = requests[1].Json();
        Assert.That(failed.GetProperty("event").GetString(), Is.EqualTo("job_failed"));
        var jobJson = failed.GetProperty("job");
        Assert.That(jobJson.GetProperty("number").GetInt64(), Is.EqualTo(job.Number));
        Assert.That(jobJson.GetProperty("name").GetString(), Is.EqualTo("bert"));
        Assert.That(jobJson.GetProperty("state").GetString(), Is.EqualTo("failed"));
        Assert.That(jobJson.GetProperty("exit_code").GetInt32(), Is.EqualTo(1));
        Assert.That(jobJson.GetProperty("duration_seconds").GetDouble(), Is.GreaterThanOrEqualTo(0));
        Assert.That(jobJson.GetProperty("command").EnumerateArray().Select(a => a.GetString()), Is.EqualTo(new[] { "/usr/bin/python3", "train.py", "--lr", "0.1" }));
        var tail = failed.GetProperty("stderr_tail").EnumerateArray().Select(l => l.GetString()).ToList();
        Assert.That(tail, Has.Count.EqualTo(50));
        Assert.That(tail[0], Is.EqualTo("stderr line 6"));
        Assert.That(tail[^1], Is.EqualTo("stderr line 55"));
        var scalars = failed.GetProperty("scalars").EnumerateArray().ToDictionary(s => s.GetProperty("name").GetString()!, s => s.GetProperty("value"));
        Assert.That(scalars["loss"].GetDouble(), Is.EqualTo(0.25));
        Assert.That(scalars["acc"].GetString(), Is.EqualTo("NaN"));
        var chart = Convert.FromBase64String(failed.GetProperty("chart").GetProperty("png_base64").GetString()!);
        using var image = ChartTests.Decode(chart);
        Assert.That(File.Exists(failed.GetProperty("chart").GetProperty("path").GetString()), "the chart is saved in the job's folder");
    }

    [Test]
    public async Task Without_a_secret_the_webhook_is_not_signed()
    {
        using var receiver = new HttpReceiver();
        await using var bed = new NotifierTestBed(NotifierTestBed.Fast(s => s.Webhook = new WebhookSettings { Url = receiver.Url("/hook") }));
        bed.StartJob();
        var request = receiver.WaitFor(1)[0];
        Assert.That(request.Headers.ContainsKey("X-Meeshkan-Signature"), Is.False);
        Assert.That(request.Json().GetProperty("event").GetString(), Is.EqualTo("job_started"));
    }

    [Test]
    public async Task Email_carries_the_chart_inline_and_a_failure_its_stderr_tail()
    {
        using var smtp = new SmtpReceiver();
        await using var bed = new NotifierTestBed(NotifierTestBed.Fast(s => s.Email = new EmailSettings
        {
            SmtpHost = "127.0.0.1", SmtpPort = smtp.Port, SmtpSecurity = SmtpSecurity.None,
            From = "meeshkan@example.org", To = ["ml@example.org", "second@example.org"],
        }));

        var job = bed.StartJob("gpt-small", reportIntervalSeconds: 1);
        bed.ReportCurves(job, 200);
        WriteStderr(job, 80);
        // Wait for the report before the job ends: interval reports are for running jobs.
        var messages = smtp.WaitFor(2);
        bed.EndJob(job, JobState.Failed, 2, "exit status 2");
        messages = smtp.WaitFor(3);

        Assert.That(messages[0].Subject, Is.EqualTo($"[meeshkan] Job {job.Number} (gpt-small) started"));
        Assert.That(messages[0].To.Mailboxes.Select(m => m.Address), Is.EqualTo(new[] { "ml@example.org", "second@example.org" }));

        var report = messages.Single(m => m.Subject!.Contains("progress report"));
        var png = report.BodyParts.OfType<MimePart>().Single(p => p.ContentType.MimeType == "image/png");
        Assert.That(png.ContentId, Is.Not.Empty);
        Assert.That(report.HtmlBody, Does.Contain($"cid:{png.ContentId}"), "the HTML shows the chart inline");
        Assert.That(report.TextBody, Does.Contain("train_loss"));
        using (var image = ChartTests.Decode(png.Bytes()))
        {
            Assert.That(ChartTests.PlotAreaInk(image), Is.GreaterThan(0.005));
        }

        var failed = messages.Single(m => m.Subject!.Contains("failed"));
        Assert.That(failed.TextBody, Does.Contain("Last 50 lines of stderr").And.Contain("stderr line 80").And.Contain("stderr line 31"));
        Assert.That(failed.TextBody, Does.Not.Contain("stderr line 30\n"));
        Assert.That(failed.BodyParts.OfType<MimePart>().Any(p => p.ContentType.MimeType == "image/png"), "the final chart");
    }

    [Test]
    public async Task Every_event_is_in_the_history_and_charts_are_saved_in_the_jobs_folder()
    {
        using var slack = new HttpReceiver();
        await using var bed = new NotifierTestBed(NotifierTestBed.Fast(s => s.Slack = new SlackSettings { WebhookUrl = slack.Url("/s") }));
        var job = bed.StartJob(reportIntervalSeconds: 1);
        bed.ReportCurves(job, 50);
        slack.WaitFor(2);
        bed.Observer.CustomMessage(job, "hello");
        bed.EndJob(job, JobState.Finished, 0);

        var history = bed.WaitForHistory(job.Number, r => r.Count(x => x.Channel == "slack" && x.Status == NotificationStatus.Success) == 4);
        Assert.That(history.Where(r => r.Channel == "history").Select(r => r.Event),
            Is.EqualTo(new[] { "job_started", "interval_report", "custom", "job_finished" }));
        Assert.That(history.Where(r => r.Channel == "slack").Select(r => (r.Event, r.Status, r.Attempt)), Is.EqualTo(new[]
        {
            ("job_started", NotificationStatus.Success, 1), ("interval_report", NotificationStatus.Success, 1),
            ("custom", NotificationStatus.Success, 1), ("job_finished", NotificationStatus.Success, 1),
        }));
        Assert.That(history.Single(r => r.Channel == "history" && r.Event == "custom").Summary, Is.EqualTo("hello"));
        var charts = Directory.GetFiles(Path.Combine(job.OutputDirectory, "charts"), "*.png");
        Assert.That(charts.Select(Path.GetFileName), Has.Some.EndsWith("-interval_report.png").And.Some.EndsWith("-job_finished.png"));
    }

    [Test]
    public async Task Interval_reports_come_only_when_new_scalars_arrived_and_show_the_change()
    {
        using var hook = new HttpReceiver();
        await using var bed = new NotifierTestBed(NotifierTestBed.Fast(s => s.Webhook = new WebhookSettings { Url = hook.Url("/h") }));
        var job = bed.StartJob(reportIntervalSeconds: 1);
        bed.Report(job, ("loss", 1.0));
        hook.WaitFor(2); // started + first report
        Thread.Sleep(2500); // two intervals without new scalars: no report
        Assert.That(hook.Requests.Count, Is.EqualTo(2));
        bed.Report(job, ("loss", 0.75));
        var requests = hook.WaitFor(3);

        var first = requests[1].Json();
        var second = requests[2].Json();
        Assert.That(first.GetProperty("event").GetString(), Is.EqualTo("interval_report"));
        Assert.That(first.GetProperty("scalars")[0].GetProperty("change").ValueKind, Is.EqualTo(JsonValueKind.Null), "nothing to compare with yet");
        Assert.That(second.GetProperty("scalars")[0].GetProperty("value").GetDouble(), Is.EqualTo(0.75));
        Assert.That(second.GetProperty("scalars")[0].GetProperty("change").GetDouble(), Is.EqualTo(-0.25));

        bed.EndJob(job, JobState.Canceled, null, "canceled by the user");
        bed.Report(job, ("loss", 0.5)); // a late batch: the job is no longer running
        Thread.Sleep(1500);
        Assert.That(hook.Requests.Select(r => r.Json().GetProperty("event").GetString()).Count(e => e == "interval_report"), Is.EqualTo(2));
    }

    private static ConditionEvent Condition(string id, string description, params (string Name, double Value)[] values)
    {
        var e = new ConditionEvent { ConditionId = id, Description = description };
        foreach (var (name, value) in values)
        {
            e.Values[name] = value;
        }
        return e;
    }

    private static void WriteStderr(Store.JobRecord job, int lines) =>
        File.WriteAllText(Path.Combine(job.OutputDirectory, "stderr"), string.Concat(Enumerable.Range(1, lines).Select(i => $"stderr line {i}\n")));
}
