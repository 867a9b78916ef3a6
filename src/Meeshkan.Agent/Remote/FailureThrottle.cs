using System.Collections.Concurrent;
using System.Net;

namespace Meeshkan.Agent.Remote;

/// <summary>
/// Slows down guessing: each refused call from an address waits longer than the one before it (none for the first,
/// then 250 ms doubling up to 10 s). An accepted call, or ten quiet minutes, forgive the address.
/// </summary>
public sealed class FailureThrottle(TimeProvider time)
{
    public static readonly TimeSpan FirstDelay = TimeSpan.FromMilliseconds(250);
    public static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan ForgetAfter = TimeSpan.FromMinutes(10);
    private const int MaxTracked = 10_000;

    private readonly ConcurrentDictionary<IPAddress, Entry> _failures = new();

    private sealed record Entry(int Count, DateTimeOffset Last);

    /// <summary>Counts a failure and returns how many there have been and how long to wait before answering.</summary>
    public (int Failures, TimeSpan Delay) Fail(IPAddress address)
    {
        var now = time.GetUtcNow();
        if (_failures.Count >= MaxTracked)
        {
            foreach (var (key, old) in _failures)
            {
                if (now - old.Last > ForgetAfter)
                {
                    _failures.TryRemove(key, out _);
                }
            }
        }
        var entry = _failures.AddOrUpdate(address, _ => new Entry(1, now),
            (_, old) => new Entry(now - old.Last > ForgetAfter ? 1 : old.Count + 1, now));
        return (entry.Count, DelayFor(entry.Count));
    }

    public void Succeed(IPAddress address)
    {
        if (!_failures.IsEmpty)
        {
            _failures.TryRemove(address, out _);
        }
    }

    public static TimeSpan DelayFor(int failures) => failures <= 1
        ? TimeSpan.Zero
        : TimeSpan.FromTicks(Math.Min(MaxDelay.Ticks, FirstDelay.Ticks << Math.Min(failures - 2, 20)));
}
