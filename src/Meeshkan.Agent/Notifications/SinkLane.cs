using System.Net.Sockets;
using Meeshkan.Agent.Config;
using Meeshkan.Agent.Store;
using Meeshkan.V1;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace Meeshkan.Agent.Notifications;

/// <summary>
/// One channel's own queue and sender. Each job has its own queue in the lane and the jobs take turns, one message
/// each, so one job's flood cannot hold up another job's messages; one job's messages go out in order. Each message is
/// retried by a Polly pipeline (a timeout per attempt, exponential backoff, a bounded number of attempts, and the
/// receiver's Retry-After honoured); a slow or dead channel only delays its own lane. Every attempt is recorded.
/// </summary>
internal sealed class SinkLane
{
    /// <summary>Messages one job may have waiting for one channel; its oldest are dropped (and recorded) beyond that.</summary>
    public const int Capacity = 1000;

    /// <summary>The longest wait a receiver's Retry-After is honoured for; longer ones are cut to this.</summary>
    public static readonly TimeSpan MaxRetryAfter = TimeSpan.FromMinutes(10);

    private readonly INotificationSink _sink;
    private readonly NotificationSettings _settings;
    private readonly Redactor _redactor;
    private readonly NotificationStore _store;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private readonly Dictionary<long, Queue<Notification>> _waiting = new();
    private readonly Queue<long> _turns = new();
    private readonly SemaphoreSlim _ready = new(0);
    private bool _completed;

    public SinkLane(INotificationSink sink, NotificationSettings settings, NotificationStore store, TimeProvider time, ILogger logger, CancellationToken stopping)
    {
        _sink = sink;
        _settings = settings;
        _redactor = SinkFactory.Redactor(settings);
        _store = store;
        _time = time;
        _logger = logger;
        Completion = Task.Run(() => PumpAsync(stopping), CancellationToken.None);
    }

    public string Channel => _sink.Channel;

    /// <summary>Ends when the lane has sent (or given up on) everything after <see cref="Complete"/>, or on stop.</summary>
    public Task Completion { get; }

    public void Enqueue(Notification notification)
    {
        Notification? dropped = null;
        lock (_lock)
        {
            if (_completed)
            {
                return;
            }
            var job = notification.Job?.Number ?? 0;
            if (!_waiting.TryGetValue(job, out var queue))
            {
                _waiting[job] = queue = new Queue<Notification>();
                _turns.Enqueue(job);
            }
            if (queue.Count >= Capacity)
            {
                dropped = queue.Dequeue();
            }
            queue.Enqueue(notification);
        }
        if (dropped is null)
        {
            _ready.Release();
        }
        else
        {
            Record(dropped, NotificationStatus.Failed, $"dropped: more than {Capacity} notifications of this job were waiting for this channel", 0);
        }
    }

    /// <summary>No more messages: the lane finishes what it has and ends.</summary>
    public void Complete()
    {
        lock (_lock)
        {
            _completed = true;
        }
        _ready.Release();
    }

    /// <summary>The next message: the first of the job whose turn it is. Null when the lane is complete and empty.</summary>
    private Notification? Next()
    {
        lock (_lock)
        {
            if (_turns.Count == 0)
            {
                return null;
            }
            var job = _turns.Dequeue();
            var queue = _waiting[job];
            var next = queue.Dequeue();
            if (queue.Count > 0)
            {
                _turns.Enqueue(job);
            }
            else
            {
                _waiting.Remove(job);
            }
            return next;
        }
    }

    private async Task PumpAsync(CancellationToken stopping)
    {
        try
        {
            while (true)
            {
                await _ready.WaitAsync(stopping).ConfigureAwait(false);
                if (Next() is { } notification)
                {
                    await DeliverAsync(notification, stopping).ConfigureAwait(false);
                }
                else if (Volatile.Read(ref _completed))
                {
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
    }

    /// <summary>Sends one message with retries; records how it went.</summary>
    private async Task DeliverAsync(Notification notification, CancellationToken stopping)
    {
        var attempts = Math.Clamp(_settings.Attempts, 1, 20);
        var timeout = TimeSpan.FromSeconds(Math.Clamp(_settings.TimeoutSeconds, 0.1, 300));
        var attempt = 0;
        var builder = new ResiliencePipelineBuilder { TimeProvider = _time };
        if (attempts > 1)
        {
            builder.AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = attempts - 1,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = false,
                Delay = TimeSpan.FromSeconds(Math.Max(0, _settings.RetryDelaySeconds)),
                MaxDelay = MaxRetryAfter,
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is { } e && !stopping.IsCancellationRequested
                    && Describe(e, e is TimeoutRejectedException, timeout).Retryable),
                // The receiver's own wait (429 Retry-After) wins over the backoff when it is longer.
                DelayGenerator = args => ValueTask.FromResult<TimeSpan?>(
                    args.Outcome.Exception is DeliveryException { RetryAfter: { } after } && after > Backoff(args.AttemptNumber)
                        ? (after < MaxRetryAfter ? after : MaxRetryAfter) : null),
                OnRetry = args =>
                {
                    var reason = Reason(args.Outcome.Exception!);
                    Record(notification, NotificationStatus.Failed, $"{reason} (retrying in {args.RetryDelay.TotalSeconds:0.#}s)", attempt);
                    NotificationLog.AttemptFailed(_logger, notification.Event.Name(), notification.Job?.Number ?? 0, Channel, attempt, attempts, reason);
                    return ValueTask.CompletedTask;
                },
            });
        }
        var pipeline = builder.AddTimeout(timeout).Build();
        try
        {
            await pipeline.ExecuteAsync(async cancel =>
            {
                attempt++;
                await _sink.SendAsync(notification, cancel).ConfigureAwait(false);
            }, stopping).ConfigureAwait(false);
            Record(notification, NotificationStatus.Success, null, attempt);
            NotificationLog.Sent(_logger, notification.Event.Name(), notification.Job?.Number ?? 0, Channel, attempt);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            Record(notification, NotificationStatus.Failed, "the agent stopped before it was sent", attempt);
        }
        catch (Exception e)
        {
            var reason = Reason(e);
            Record(notification, NotificationStatus.Failed, $"{reason} (gave up after {attempt} attempt{(attempt == 1 ? "" : "s")})", attempt);
            NotificationLog.AttemptFailed(_logger, notification.Event.Name(), notification.Job?.Number ?? 0, Channel, attempt, attempts, reason);
        }

        string Reason(Exception e) => _redactor.Redact(Describe(e, e is TimeoutRejectedException, timeout).Reason);
        TimeSpan Backoff(int retry) => TimeSpan.FromSeconds(_settings.RetryDelaySeconds * Math.Pow(2, retry));
    }

    /// <summary>A short reason for an attempt that failed, and whether another attempt may succeed.</summary>
    internal static (string Reason, bool Retryable) Describe(Exception e, bool timedOut, TimeSpan timeout)
    {
        if (timedOut && e is OperationCanceledException or TimeoutException or TimeoutRejectedException)
        {
            return ($"no answer within {timeout.TotalSeconds:0.#}s", true);
        }
        return e switch
        {
            DeliveryException d => (d.Message, d.Retryable),
            HttpRequestException { InnerException: SocketException s } => ($"cannot connect: {s.SocketErrorCode} ({s.Message})", true),
            HttpRequestException h => ($"HTTP request failed: {h.Message}", true),
            SocketException s => ($"cannot connect: {s.SocketErrorCode} ({s.Message})", true),
            MailKit.ProtocolException p => ($"SMTP protocol error: {p.Message}", true),
            System.Security.Authentication.AuthenticationException a => ($"TLS failed: {a.Message}", false),
            IOException io => ($"connection failed: {io.Message}", true),
            _ => ($"{e.GetType().Name}: {e.Message}", true),
        };
    }

    private void Record(Notification notification, NotificationStatus status, string? reason, int attempt)
    {
        try
        {
            _store.Record(notification.Job?.Number, notification.Event.Name(), Channel, status, reason, attempt, Summary(notification));
        }
        catch (Exception e) when (e is Microsoft.Data.Sqlite.SqliteException or InvalidOperationException or ObjectDisposedException)
        {
            NotificationLog.RecordFailed(_logger, e.Message);
        }
    }

    internal static string Summary(Notification n)
    {
        var text = NotificationText.Summary(n);
        return text.Length <= 300 ? text : text[..299] + "…";
    }
}
