using Meeshkan.Agent.Store;

namespace Meeshkan.Agent.Notifications;

/// <summary>One scalar's line in a notification: its latest value and the change since the previous report.</summary>
public sealed record ScalarLine(string Name, double Value, long Step, double? Change);

/// <summary>A condition that was met, and the values that met it.</summary>
public sealed record ConditionInfo(string Id, string Description, IReadOnlyDictionary<string, double> Values, bool OnlyReported);

/// <summary>
/// A notification as composed once, in the background, and then sent to every channel. Each sink only chooses how
/// to lay it out; <see cref="NotificationText"/> words it.
/// </summary>
public sealed record Notification
{
    public required NotificationEvent Event { get; init; }

    /// <summary>The job it is about; null only for <c>meeshkan setup --test</c>.</summary>
    public JobRecord? Job { get; init; }

    public required DateTimeOffset Time { get; init; }

    /// <summary>The machine the agent runs on.</summary>
    public required string Host { get; init; }

    /// <summary>Same for every attempt and channel, so that a receiver can drop repeats.</summary>
    public string DeliveryId { get; init; } = Guid.NewGuid().ToString();

    public IReadOnlyList<ScalarLine> Scalars { get; init; } = [];

    public ConditionInfo? Condition { get; init; }

    /// <summary>The job's own message (custom) or the test text.</summary>
    public string? Message { get; init; }

    /// <summary>Last lines of the job's stderr, for a failure.</summary>
    public IReadOnlyList<string> StderrTail { get; init; } = [];

    /// <summary>The chart as PNG, when the event has one and the job has scalars.</summary>
    public byte[]? ChartPng { get; init; }

    /// <summary>Where the chart was saved in the job's folder.</summary>
    public string? ChartPath { get; init; }
}
