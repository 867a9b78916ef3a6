namespace Meeshkan.Agent;

/// <summary>When this agent started, for `meeshkan status`.</summary>
public sealed class AgentClock(TimeProvider time)
{
    public DateTimeOffset StartedAt { get; } = time.GetUtcNow();
}
