using Meeshkan.Agent.Jobs;

namespace Meeshkan.Agent.Tests.Jobs;

/// <summary>submit --retries N --retry-delay D: which attempts are started again, and what users read about them.</summary>
[TestFixture]
public sealed class AttemptsTests
{
    private static readonly TimeSpan Delay = TimeSpan.FromSeconds(30);

    [Test]
    public void A_failed_attempt_is_retried_until_the_retries_are_used_up()
    {
        Assert.That(Attempts.Retry(1, 2, Delay, AttemptEnd.Exited, 1), Is.EqualTo(Delay));
        Assert.That(Attempts.Retry(2, 2, Delay, AttemptEnd.Exited, 137), Is.EqualTo(Delay));
        Assert.That(Attempts.Retry(3, 2, Delay, AttemptEnd.Exited, 1), Is.Null);
        Assert.That(Attempts.Retry(1, 0, Delay, AttemptEnd.Exited, 1), Is.Null);
    }

    [Test]
    public void A_timeout_and_an_unknown_end_are_failures_that_are_retried()
    {
        Assert.That(Attempts.Retry(1, 1, Delay, AttemptEnd.TimedOut, 143), Is.EqualTo(Delay));
        Assert.That(Attempts.Retry(1, 1, TimeSpan.Zero, AttemptEnd.Exited, null), Is.EqualTo(TimeSpan.Zero));
    }

    [Test]
    public void Success_a_cancel_and_a_stop_are_never_retried()
    {
        Assert.That(Attempts.Retry(1, 5, Delay, AttemptEnd.Exited, 0), Is.Null);
        Assert.That(Attempts.Retry(1, 5, Delay, AttemptEnd.Canceled, 143), Is.Null);
        Assert.That(Attempts.Retry(1, 5, Delay, AttemptEnd.Stopped, 143), Is.Null);
    }

    [Test]
    public void Notifications_and_list_say_which_attempt()
    {
        Assert.That(Attempts.FailedAndRetrying(2, 2, "exit 137", Delay), Is.EqualTo("attempt 2 of 3 failed (exit 137), retrying in 30 s"));
        Assert.That(Attempts.FailedAndRetrying(1, 1, "timed out after 2h", TimeSpan.Zero), Is.EqualTo("attempt 1 of 2 failed (timed out after 2h), retrying now"));
        Assert.That(Attempts.FailedAndRetrying(1, 1, "exit 1", TimeSpan.FromMinutes(5)), Is.EqualTo("attempt 1 of 2 failed (exit 1), retrying in 5m"));
        Assert.That(Attempts.Shown(2, 2), Is.EqualTo("attempt 2/3"));
        Assert.That(Attempts.Shown(0, 2), Is.EqualTo("attempt 1/3"));
        Assert.That(Attempts.Shown(1, 0), Is.Empty);
        Assert.That(Attempts.Why(AttemptEnd.TimedOut, 143, TimeSpan.FromHours(2), null), Is.EqualTo("timed out after 2h"));
        Assert.That(Attempts.Why(AttemptEnd.Exited, 137, TimeSpan.Zero, null), Is.EqualTo("exit 137"));
    }
}
