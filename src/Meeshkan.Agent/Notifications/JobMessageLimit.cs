using Meeshkan.Agent.Store;

namespace Meeshkan.Agent.Notifications;

/// <summary>
/// How many messages of its own (<c>meeshkan.notify</c>) one job may send: a burst of N, then N a minute
/// (<see cref="Config.NotificationSettings.MessagesPerJobPerMinute"/>, default 10). What comes beyond is not dropped
/// but merged: as soon as the job may send again, one message goes out that quotes the last of them and says how many
/// were merged; at the job's end, before its end notification. Starts, ends, conditions and interval reports are not
/// limited (they are few per job, or have their own cooldown).
/// </summary>
public sealed class JobMessageLimit(TimeProvider time, Func<int> perMinute)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<long, Bucket> _buckets = new();

    private sealed class Bucket
    {
        public double Tokens;
        public long Stamp;
        public int Merged;
        public string? Last;
        public required JobRecord Job;
    }

    /// <summary>True when <paramref name="message"/> may go out now; otherwise it is counted into the next merged message.</summary>
    public bool Admit(JobRecord job, string message)
    {
        var rate = Rate();
        lock (_lock)
        {
            if (!_buckets.TryGetValue(job.Number, out var bucket))
            {
                _buckets[job.Number] = bucket = new Bucket { Tokens = rate, Stamp = time.GetTimestamp(), Job = job };
            }
            Refill(bucket, rate);
            if (bucket.Merged == 0 && bucket.Tokens >= 1)
            {
                bucket.Tokens--;
                return true;
            }
            bucket.Merged++;
            bucket.Last = message;
            bucket.Job = job;
            return false;
        }
    }

    /// <summary>The merged messages that may go out now.</summary>
    public List<NotificationRequest> TakeDue()
    {
        var rate = Rate();
        var due = new List<NotificationRequest>();
        lock (_lock)
        {
            foreach (var (number, bucket) in _buckets)
            {
                Refill(bucket, rate);
                if (bucket.Merged > 0 && bucket.Tokens >= 1)
                {
                    bucket.Tokens--;
                    due.Add(Take(bucket, rate));
                }
                else if (bucket.Merged == 0 && bucket.Tokens >= rate)
                {
                    _buckets.Remove(number); // idle and full: nothing to remember
                }
            }
        }
        return due;
    }

    /// <summary>At the job's end: its merged message, if one is waiting, whatever the rate; and the job is forgotten.</summary>
    public NotificationRequest? Flush(JobRecord job)
    {
        lock (_lock)
        {
            if (!_buckets.Remove(job.Number, out var bucket) || bucket.Merged == 0)
            {
                return null;
            }
            return Take(bucket, Rate());
        }
    }

    private int Rate() => Math.Max(1, perMinute());

    private void Refill(Bucket bucket, int rate)
    {
        var now = time.GetTimestamp();
        bucket.Tokens = Math.Min(rate, bucket.Tokens + time.GetElapsedTime(bucket.Stamp, now).TotalMinutes * rate);
        bucket.Stamp = now;
    }

    private static NotificationRequest Take(Bucket bucket, int rate)
    {
        var text = bucket.Merged == 1
            ? bucket.Last!
            : $"{bucket.Merged} messages from this job were merged into this one (at most {rate} a minute go out); the last of them:\n{bucket.Last}";
        bucket.Merged = 0;
        bucket.Last = null;
        return new NotificationRequest(NotificationEvent.Custom, bucket.Job, Message: text.Length <= 4000 ? text : text[..3999] + "…");
    }
}
