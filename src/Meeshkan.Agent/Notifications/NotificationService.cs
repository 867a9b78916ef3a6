using Meeshkan.Agent.Store;
using Meeshkan.V1;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Meeshkan.Agent.Notifications;

/// <summary>
/// The notifier: one pump composes each queued request (chart, stderr tail), records it in the history and hands it
/// to every channel's lane; a timer raises interval reports and the merged messages of <see cref="JobMessageLimit"/>. Nothing here runs on the caller's thread.
/// </summary>
public sealed class NotificationService(
    NotificationQueue queue, NotificationComposer composer, IntervalTracker intervals, NotificationSettingsSource settings,
    NotificationStore store, JobMessageLimit limit, TimeProvider time, ILogger<NotificationService> logger) : BackgroundService
{
    private readonly Dictionary<string, SinkLane> _lanes = new(StringComparer.Ordinal);
    private string? _fingerprint;
    private CancellationToken _stopping;

    /// <summary>How often due interval reports are looked for.</summary>
    public TimeSpan IntervalTick { get; init; } = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stopping)
    {
        _stopping = stopping;
        await Task.Yield();
        var ticker = TickAsync(stopping);
        try
        {
            // Every request waiting is taken at once: their history rows go in one write (a burst of job ends, one
            // transaction instead of one each), then each goes to the channels in order. After a dispatch the pump
            // lets BurstPause pass before it looks again: the first notification after a quiet spell goes at once, and
            // a burst (hundreds of short jobs a second) is written in a few batches instead of two transactions and two
            // wake-ups a job, which cost the run loop's jobs a fifth of their rate (bench/parallel.sh).
            var batch = new List<NotificationRequest>();
            while (await queue.Reader.WaitToReadAsync(stopping).ConfigureAwait(false))
            {
                while (batch.Count < MaxBatch && queue.Reader.TryRead(out var request))
                {
                    batch.Add(request);
                }
                Dispatch(batch);
                batch.Clear();
                await Task.Delay(BurstPause, stopping).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
        await ticker.ConfigureAwait(false);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        queue.Complete();
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        await Task.WhenAll(_lanes.Values.Select(l => l.Completion)).WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None)
            .ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
    }

    private async Task TickAsync(CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(IntervalTick, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stopping).ConfigureAwait(false))
            {
                foreach (var job in intervals.TakeDue())
                {
                    queue.Enqueue(new NotificationRequest(NotificationEvent.IntervalReport, job));
                }
                foreach (var merged in limit.TakeDue())
                {
                    queue.Enqueue(merged);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    // The most requests composed and recorded in one go.
    private const int MaxBatch = 256;

    /// <summary>How long the pump waits after a dispatch before it takes the requests that came meanwhile.</summary>
    public TimeSpan BurstPause { get; init; } = TimeSpan.FromMilliseconds(10);

    private void Dispatch(IReadOnlyList<NotificationRequest> requests)
    {
        var notifications = requests.Select(Compose).ToList();
        try
        {
            store.RecordHistory(notifications.Select(n => (n.Job?.Number, n.Event.Name(),
                n.ChartPath is { } chart ? $"chart: {chart}" : null, SinkLane.Summary(n))));
        }
        catch (Exception e) when (e is Microsoft.Data.Sqlite.SqliteException or InvalidOperationException)
        {
            NotificationLog.RecordFailed(logger, e.Message);
        }
        var lanes = Lanes().ToList();
        foreach (var notification in notifications)
        {
            foreach (var lane in lanes)
            {
                lane.Enqueue(notification);
            }
        }
    }

    private Notification Compose(NotificationRequest request)
    {
        try
        {
            return composer.Compose(request);
        }
        catch (Exception e)
        {
            NotificationLog.ComposeFailed(logger, request.Event.Name(), request.Job.Number, e);
            return new Notification
            {
                Event = request.Event, Job = request.Job, Time = time.GetUtcNow(), Host = NotificationComposer.Host,
                Message = request.Message,
            };
        }
    }

    /// <summary>The lanes for the channels in force; rebuilt when the settings changed (old lanes finish their backlog).</summary>
    private IEnumerable<SinkLane> Lanes()
    {
        var current = settings.Current;
        var fingerprint = SinkFactory.Fingerprint(current);
        if (fingerprint != _fingerprint)
        {
            foreach (var lane in _lanes.Values)
            {
                lane.Complete();
            }
            _lanes.Clear();
            foreach (var sink in SinkFactory.Create(current))
            {
                _lanes[sink.Channel] = new SinkLane(sink, current, store, time, logger, _stopping);
            }
            _fingerprint = fingerprint;
            NotificationLog.Channels(logger, _lanes.Count == 0 ? "none (history only)" : string.Join(", ", _lanes.Keys));
        }
        return _lanes.Values;
    }
}
