using System.Collections.Concurrent;
using System.Diagnostics;
using Meeshkan.Agent.Scheduler;

namespace Meeshkan.Agent.Tests.Jobs;

/// <summary>Timeouts and retry delays fall due on time, once, from one timer.</summary>
[TestFixture]
public sealed class DeadlinesTests
{
    private ConcurrentQueue<(long Number, DeadlineKind Kind, TimeSpan At)> _fired = null!;
    private Stopwatch _clock = null!;
    private Deadlines _deadlines = null!;

    [SetUp]
    public void SetUp()
    {
        // NUnit reuses one fixture instance for every test: each test gets its own.
        (_fired, _clock) = (new(), Stopwatch.StartNew());
        var fired = _fired;
        var clock = _clock;
        _deadlines = new Deadlines(TimeProvider.System, (n, k) => fired.Enqueue((n, k, clock.Elapsed)));
    }

    [TearDown]
    public void TearDown() => _deadlines.Dispose();

    private DateTimeOffset In(int ms) => DateTimeOffset.UtcNow.AddMilliseconds(ms);

    [Test]
    public void Deadlines_fall_due_in_time_order_each_once_and_within_milliseconds()
    {
        var start = _clock.Elapsed;
        _deadlines.Set(3, DeadlineKind.Timeout, In(300));
        _deadlines.Set(1, DeadlineKind.Timeout, In(100));
        _deadlines.Set(2, DeadlineKind.RetryDue, In(200));

        Thread.Sleep(600);

        Assert.That(_fired.Select(f => (f.Number, f.Kind)), Is.EqualTo(new[]
        {
            (1L, DeadlineKind.Timeout), (2L, DeadlineKind.RetryDue), (3L, DeadlineKind.Timeout),
        }));
        var late = _fired.Select((f, i) => (f.At - start).TotalMilliseconds - 100 * (i + 1)).ToArray();
        Assert.That(late, Has.All.GreaterThan(-5).And.All.LessThan(100), string.Join(", ", late));
        Assert.That(_deadlines.Count, Is.Zero);
    }

    [Test]
    public void A_cleared_deadline_never_falls_due_and_a_moved_one_falls_due_at_its_new_time()
    {
        _deadlines.Set(1, DeadlineKind.Timeout, In(100));
        _deadlines.Set(2, DeadlineKind.Timeout, In(100));
        _deadlines.Clear(1, DeadlineKind.Timeout);
        _deadlines.Set(2, DeadlineKind.Timeout, In(250));
        _deadlines.Set(1, DeadlineKind.RetryDue, In(50));

        Thread.Sleep(180);
        Assert.That(_fired.Select(f => (f.Number, f.Kind)), Is.EqualTo(new[] { (1L, DeadlineKind.RetryDue) }));
        Assert.That(_deadlines.Of(2, DeadlineKind.Timeout), Is.Not.Null);

        Thread.Sleep(300);
        Assert.That(_fired.Select(f => (f.Number, f.Kind)), Is.EqualTo(new[] { (1L, DeadlineKind.RetryDue), (2L, DeadlineKind.Timeout) }));
    }

    [Test]
    public void A_deadline_in_the_past_falls_due_at_once()
    {
        _deadlines.Set(7, DeadlineKind.Timeout, DateTimeOffset.UtcNow.AddHours(-1));

        Assert.That(() => _fired.Count, Is.EqualTo(1).After(500, 5));
    }
}
