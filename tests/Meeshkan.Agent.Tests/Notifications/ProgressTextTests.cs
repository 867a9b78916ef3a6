using Meeshkan.Agent.Notifications;
using Meeshkan.Agent.Store;

namespace Meeshkan.Agent.Tests.Notifications;

/// <summary>A progress notification of a job with a tqdm bar says how far it is and how long is left (issue 17).</summary>
[TestFixture]
public sealed class ProgressTextTests
{
    private static Notification Report(params ScalarLine[] scalars) => new()
    {
        Event = NotificationEvent.IntervalReport,
        Time = DateTimeOffset.UnixEpoch,
        Host = "box",
        Job = new JobRecord { Number = 3, Id = "id", Name = "train", Command = ["bash", "train.sh"], WorkingDirectory = "/", OutputDirectory = "/tmp/3" },
        Scalars = scalars,
    };

    [Test]
    public void Progress_and_time_left_come_first_then_the_other_scalars()
    {
        var n = Report(new ScalarLine("loss", 0.25, 9, null), new ScalarLine("progress", 45.6, 1, null), new ScalarLine("eta seconds", 65, 1, null));
        Assert.That(NotificationText.Summary(n), Is.EqualTo("45%, 1m05s left; loss 0.25"));
        Assert.That(NotificationText.Fields(n), Does.Contain(("Progress", "45%, 1m05s left")));
    }

    [Test]
    public void Without_a_time_left_the_percent_alone_and_without_progress_the_scalars_as_before()
    {
        Assert.That(NotificationText.Summary(Report(new ScalarLine("progress", 100, 2, null))), Is.EqualTo("100%"));
        Assert.That(NotificationText.Summary(Report(new ScalarLine("loss", 0.25, 9, null))), Is.EqualTo("loss 0.25"));
        Assert.That(NotificationText.Fields(Report(new ScalarLine("loss", 0.25, 9, null))).Select(f => f.Label), Does.Not.Contain("Progress"));
    }
}
