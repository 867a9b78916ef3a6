namespace Meeshkan.Agent.Scheduler;

/// <summary>What falls due at a deadline.</summary>
public enum DeadlineKind
{
    /// <summary>A running attempt has run as long as its --timeout allows.</summary>
    Timeout,

    /// <summary>A failed attempt's --retry-delay is over: the next attempt may start.</summary>
    RetryDue,
}

/// <summary>
/// The run loop's timeouts and retry delays: one timer, armed for the earliest deadline, that calls back when
/// deadlines fall due (within milliseconds, never by polling). Deadlines are absolute times computed from what the
/// store keeps (an attempt's start plus its timeout, a retry's due time), so they survive an agent restart by being
/// set again from the store.
/// </summary>
public sealed class Deadlines : IDisposable
{
    private readonly TimeProvider _time;
    private readonly Action<long, DeadlineKind> _due;
    private readonly Lock _gate = new();
    private readonly Dictionary<(long Number, DeadlineKind Kind), DateTimeOffset> _set = [];
    // Ordered by time; an entry whose time no longer matches _set was replaced or cleared, and is skipped.
    private readonly PriorityQueue<(long Number, DeadlineKind Kind, DateTimeOffset At), DateTimeOffset> _order = new();
    private readonly ITimer _timer;
    private bool _disposed;

    /// <param name="time">The clock.</param>
    /// <param name="due">Called, on a timer thread and outside any lock, for each deadline that fell due.</param>
    public Deadlines(TimeProvider time, Action<long, DeadlineKind> due)
    {
        _time = time;
        _due = due;
        _timer = time.CreateTimer(_ => Fire(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>How many deadlines are set.</summary>
    public int Count
    {
        get { lock (_gate) { return _set.Count; } }
    }

    /// <summary>Sets (or moves) a job's deadline of a kind. One in the past falls due at once.</summary>
    public void Set(long number, DeadlineKind kind, DateTimeOffset at)
    {
        lock (_gate)
        {
            _set[(number, kind)] = at;
            _order.Enqueue((number, kind, at), at);
            ArmLocked();
        }
    }

    /// <summary>Removes a job's deadline of a kind, if set.</summary>
    public void Clear(long number, DeadlineKind kind)
    {
        lock (_gate)
        {
            _set.Remove((number, kind));
        }
    }

    /// <summary>When a job's deadline of a kind falls due, if set.</summary>
    public DateTimeOffset? Of(long number, DeadlineKind kind)
    {
        lock (_gate)
        {
            return _set.TryGetValue((number, kind), out var at) ? at : null;
        }
    }

    private void Fire()
    {
        List<(long, DeadlineKind)>? due = null;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }
            var now = _time.GetUtcNow();
            while (_order.TryPeek(out var next, out var at) && at <= now)
            {
                _order.Dequeue();
                if (_set.TryGetValue((next.Number, next.Kind), out var current) && current == next.At)
                {
                    _set.Remove((next.Number, next.Kind));
                    (due ??= []).Add((next.Number, next.Kind));
                }
            }
            ArmLocked();
        }
        foreach (var (number, kind) in due ?? [])
        {
            _due(number, kind);
        }
    }

    private void ArmLocked()
    {
        // Drop entries that were replaced or cleared, so the timer is armed for a live deadline.
        while (_order.TryPeek(out var next, out _) &&
               !(_set.TryGetValue((next.Number, next.Kind), out var current) && current == next.At))
        {
            _order.Dequeue();
        }
        if (_disposed)
        {
            return;
        }
        if (!_order.TryPeek(out _, out var earliest))
        {
            _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            return;
        }
        var wait = earliest - _time.GetUtcNow();
        _timer.Change(wait > TimeSpan.Zero ? wait : TimeSpan.Zero, Timeout.InfiniteTimeSpan);
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
        }
        _timer.Dispose();
    }
}
