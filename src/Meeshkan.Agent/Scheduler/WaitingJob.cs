using Meeshkan.Agent.Gpus;

namespace Meeshkan.Agent.Scheduler;

/// <summary>What the scheduling policy knows of a queued job: small, so that 10,000 of them stay in memory.</summary>
public sealed record WaitingJob(long Number, int Priority, GpuRequest Gpus, DateTimeOffset QueuedAt);
