using Meeshkan.Agent.Store;

namespace Meeshkan.Agent.Executors;

/// <summary>
/// How jobs run: on this machine (<see cref="Local.LocalExecutor"/>), later on a Slurm cluster. The scheduler decides
/// what runs and when; an executor only starts, watches and stops. Contract (docs/architecture.md, "The executor seam"):
/// <list type="bullet">
/// <item><see cref="StartAsync"/> returns the executor's reference for the job (local: "pid:start-ticks"; Slurm: the
/// job id). The store records it with <see cref="Name"/>; nothing else reads inside it.</item>
/// <item>Every job started or re-attached ends with exactly one <see cref="IExecutorEvents.Exited"/>, sent from any
/// thread once nothing of the job runs any more, with the time it ended. The run loop records it; an executor never
/// writes the store.</item>
/// <item><see cref="Reattach"/> after an agent restart watches a job from its recorded reference, as if started.</item>
/// <item><see cref="TerminateAsync"/> asks the job to stop (for local: SIGTERM, then SIGKILL after the grace
/// period); its end still arrives through <see cref="IExecutorEvents.Exited"/>.</item>
/// </list>
/// </summary>
public interface IJobExecutor
{
    /// <summary>The name recorded with each job it runs ("local").</summary>
    string Name { get; }

    /// <summary>
    /// Whether a job it runs takes one of this machine's slots. False for executors that hand jobs to a scheduler of
    /// their own (Slurm): the run loop starts their queued jobs at once, however many run.
    /// </summary>
    bool TakesSlot => true;

    /// <summary>
    /// Whether it ends a job at its time limit itself (submit --timeout; Slurm: sbatch --time, the job ends TIMEOUT).
    /// False: the run loop stops an attempt that runs too long.
    /// </summary>
    bool KeepsTimeLimit => false;

    /// <summary>Whether it can start jobs now (false: <see cref="StartAsync"/> would throw <see cref="ExecutorUnavailableException"/>).</summary>
    bool Available => true;

    /// <summary>
    /// Starts the job; the job's folder exists. Throws <see cref="ExecutorStartException"/> when it cannot (the job
    /// fails), <see cref="ExecutorUnavailableException"/> when it cannot now (the job stays queued; the executor
    /// calls <see cref="IExecutorEvents"/>' owner again through the inbox once it can).
    /// </summary>
    ValueTask<ExecutorStart> StartAsync(JobRecord job, CancellationToken cancel);

    /// <summary>Watches a job an earlier agent started (its <see cref="JobRecord.ExecutorReference"/>) until it ends.</summary>
    void Reattach(JobRecord job, CancellationToken stopping);

    /// <summary>Stops a running job: politely first, by force after <paramref name="grace"/>.</summary>
    Task TerminateAsync(JobRecord job, TimeSpan grace);
}

/// <summary>
/// What an executor recorded for a job it started: its reference, the pid shown to users if local, and when its
/// process was started (null: when the start is recorded). A job's duration runs from there to its end time, which the
/// executor also reads itself: both sides are the executor's, however late the run loop records them.
/// </summary>
public sealed record ExecutorStart(string Reference, int? Pid = null, DateTimeOffset? StartedAt = null);

/// <summary>The job could not be started; the message says why (it becomes the job's failure reason).</summary>
public sealed class ExecutorStartException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>The executor cannot start jobs right now (Slurm's controller does not answer); the job stays queued.</summary>
public sealed class ExecutorUnavailableException(string message) : Exception(message);

/// <summary>How a job ended: its exit code (128 + n for signal n) or null when unknown, when, and why if not plain.</summary>
public sealed record JobExit(long Number, int? ExitCode, DateTimeOffset EndedAt, string? Reason = null);

/// <summary>Where executors report what happens to their jobs; the scheduler's run loop reads it (any thread may write).</summary>
public interface IExecutorEvents
{
    /// <summary>The job has ended: nothing of it runs any more.</summary>
    void Exited(JobExit exit);

    /// <summary>The executor's own word on a job that has not ended (Slurm: "PENDING (Resources)").</summary>
    void StateChanged(long number, string executorState);
}
