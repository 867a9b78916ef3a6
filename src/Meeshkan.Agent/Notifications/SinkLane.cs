using System.Net.Sockets;
using System.Threading.Channels;
using Meeshkan.Agent.Config;
using Meeshkan.Agent.Store;
using Meeshkan.V1;
using Microsoft.Extensions.Logging;

namespace Meeshkan.Agent.Notifications;

/// <summary>
/// One channel's own queue and sender. Messages to one channel go out in order, one at a time, each retried with
/// exponential backoff up to a bounded number of attempts; a slow or dead channel only delays its own lane.
/// Every attempt is recorded.
/// </summary>
internal sealed class SinkLane
{
    /// <summary>Messages one channel may have waiting; the oldest are dropped (and recorded) beyond that.</summary>
    public const int Capacity = 1000;

    private readonly INotificationSink _sink;
    private readonly NotificationSettings _settings;
    private readonly Redactor _redactor;
    private readonly NotificationStore _store;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Channel<Notification> _queue;

    public SinkLane(INotificationSink sink, NotificationSettings settings, NotificationStore store, TimeProvider time, ILogger logger, CancellationToken stopping)
    {
        _sink = sink;
        _settings = settings;
        _redactor = SinkFactory.Redactor(settings);
        _store = store;
        _time = time;
        _logger = logger;
        _queue = System.Threading.Channels.Channel.CreateBounded<Notification>(
            new BoundedChannelOptions(Capacity) { SingleReader = true, FullMode = BoundedChannelFullMode.DropOldest },
            dropped => Record(dropped, NotificationStatus.Failed, $"dropped: more than {Capacity} notifications were waiting for this channel", 0));
        Completion = Task.Run(() => PumpAsync(stopping), CancellationToken.None);
    }

    public string Channel => _sink.Channel;

    /// <summary>Ends when the lane has sent (or given up on) everything after <see cref="Complete"/>, or on stop.</summary>
    public Task Completion { get; }

    public void Enqueue(Notification notification) => _queue.Writer.TryWrite(notification);

    /// <summary>No more messages: the lane finishes what it has and ends.</summary>
    public void Complete() => _queue.Writer.TryComplete();

    private async Task PumpAsync(CancellationToken stopping)
    {
        try
        {
            await foreach (var notification in _queue.Reader.ReadAllAsync(stopping).ConfigureAwait(false))
            {
                await DeliverAsync(notification, stopping).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
    }

    /// <summary>Sends one message with retries. Returns true when it arrived.</summary>
    internal async Task<bool> DeliverAsync(Notification notification, CancellationToken stopping)
    {
        var attempts = Math.Clamp(_settings.Attempts, 1, 20);
        var timeout = TimeSpan.FromSeconds(Math.Clamp(_settings.TimeoutSeconds, 0.1, 300));
        for (var attempt = 1; attempt <= attempts; attempt++)
        {
            string reason;
            bool retryable;
            using (var deadline = CancellationTokenSource.CreateLinkedTokenSource(stopping))
            {
                deadline.CancelAfter(timeout);
                try
                {
                    await _sink.SendAsync(notification, deadline.Token).ConfigureAwait(false);
                    Record(notification, NotificationStatus.Success, null, attempt);
                    NotificationLog.Sent(_logger, notification.Event.Name(), notification.Job?.Number ?? 0, Channel, attempt);
                    return true;
                }
                catch (OperationCanceledException) when (stopping.IsCancellationRequested)
                {
                    Record(notification, NotificationStatus.Failed, "the agent stopped before it was sent", attempt);
                    return false;
                }
                catch (Exception e)
                {
                    (reason, retryable) = Describe(e, deadline.IsCancellationRequested, timeout);
                    reason = _redactor.Redact(reason);
                }
            }
            var last = attempt == attempts || !retryable;
            var delay = TimeSpan.FromSeconds(_settings.RetryDelaySeconds * Math.Pow(2, attempt - 1));
            var stored = last
                ? $"{reason} (gave up after {attempt} attempt{(attempt == 1 ? "" : "s")})"
                : $"{reason} (retrying in {delay.TotalSeconds:0.#}s)";
            Record(notification, NotificationStatus.Failed, stored, attempt);
            NotificationLog.AttemptFailed(_logger, notification.Event.Name(), notification.Job?.Number ?? 0, Channel, attempt, attempts, reason);
            if (last)
            {
                return false;
            }
            try
            {
                await Task.Delay(delay, _time, stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return false;
            }
        }
        return false;
    }

    /// <summary>A short reason for an attempt that failed, and whether another attempt may succeed.</summary>
    internal static (string Reason, bool Retryable) Describe(Exception e, bool timedOut, TimeSpan timeout)
    {
        if (timedOut && e is OperationCanceledException or TimeoutException)
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
