using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Meeshkan.Agent.Notifications;

/// <summary>The hand-off between the agent's hot paths and the notifier: a bounded channel, written without waiting.</summary>
public sealed class NotificationQueue
{
    /// <summary>Requests waiting to be composed; beyond that new ones are dropped (and logged).</summary>
    public const int Capacity = 10_000;

    private readonly Channel<NotificationRequest> _channel;

    public NotificationQueue(ILogger<NotificationQueue> logger)
    {
        _channel = Channel.CreateBounded<NotificationRequest>(
            new BoundedChannelOptions(Capacity) { SingleReader = true, FullMode = BoundedChannelFullMode.DropWrite },
            dropped => NotificationLog.QueueFull(logger, dropped.Event.Name(), dropped.Job.Number));
    }

    /// <summary>Never blocks.</summary>
    public void Enqueue(NotificationRequest request) => _channel.Writer.TryWrite(request);

    public ChannelReader<NotificationRequest> Reader => _channel.Reader;

    public void Complete() => _channel.Writer.TryComplete();
}
