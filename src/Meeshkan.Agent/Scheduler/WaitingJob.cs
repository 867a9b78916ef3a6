using Meeshkan.Agent.Gpus;

namespace Meeshkan.Agent.Scheduler;

/// <summary>What the scheduling policy knows of a queued job: small, so that 10,000 of them stay in memory.</summary>
/// <param name="NotBefore">Between attempts: when the next may start (submit --retry-delay).</param>
public sealed record WaitingJob(long Number, int Priority, GpuRequest Gpus, DateTimeOffset QueuedAt, DateTimeOffset? NotBefore = null);
