using Meeshkan.Agent.Notifications;
using Meeshkan.Agent.Notifications.Sinks;

namespace Meeshkan.Agent.Tests.Notifications;

/// <summary>Names and messages reach Slack as they were written, never restyled by mrkdwn (issue 20, item 8).</summary>
[TestFixture]
public sealed class SlackFormattingTests
{
    [Test]
    public void Mrkdwn_markers_at_a_words_edge_are_broken_and_names_inside_words_kept()
    {
        var payload = SlackSink.Payload(new Notification
        {
            Event = NotificationEvent.Custom,
            Time = DateTimeOffset.UtcNow,
            Host = "box",
            Message = "*bold* _it_ ~gone~ `code` train_loss <a> & b",
        });
        var section = payload["blocks"]![1]!["text"]!["text"]!.GetValue<string>();
        foreach (var styled in new[] { "*bold*", "_it_", "~gone~", "`code`" })
        {
            Assert.That(section, Does.Not.Contain(styled), "mrkdwn would style " + styled);
            Assert.That(section.Replace("\u200B", "", StringComparison.Ordinal), Does.Contain(styled), "the text reads the same");
        }
        Assert.That(section, Does.Contain("train_loss").And.Contain("&lt;a&gt; &amp; b"));
    }
}
