namespace Meeshkan.Internal;

/// <summary>Something to tell the agent after the scalars reported before it.</summary>
internal abstract record OutboxItem(string JobId)
{
    /// <summary>A custom notification (Notify).</summary>
    public sealed record Notification(string JobId, string Message) : OutboxItem(JobId);

    /// <summary>A function condition held (ReportConditionMet; the agent applies the cooldown).</summary>
    public sealed record ConditionMet(string JobId, Condition Condition, double[] Values) : OutboxItem(JobId);
}
