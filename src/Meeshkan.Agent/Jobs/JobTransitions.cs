namespace Meeshkan.Agent.Jobs;

/// <summary>
/// The states a job may move between, in one table. The store applies a change only when the job is in one of the
/// table's from-states (a guarded UPDATE), so two writers racing (a cancel and an exit) cannot both win.
/// </summary>
public static class JobTransitions
{
    /// <summary>Every allowed move, with what causes it.</summary>
    public static readonly IReadOnlyList<(JobState From, JobState To, string Cause)> Table =
    [
        (JobState.Queued, JobState.Running, "its executor started it"),
        (JobState.Queued, JobState.Failed, "it could not start, or a job it waits for (submit --after) failed"),
        (JobState.Queued, JobState.Canceled, "canceled before it started"),
        (JobState.Running, JobState.Finished, "its processes are gone and it exited with status 0"),
        (JobState.Running, JobState.Failed, "its processes are gone and it exited otherwise (timed out, stopped by a condition), or its end is unknown, and no retry is left"),
        (JobState.Running, JobState.Canceled, "canceled by the user, once its processes are gone"),
    ];

    // A failed attempt retried (submit --retries) is no move: the job stays RUNNING between its attempts, without a
    // process, until the next starts or its last one ends (JobStore.MarkRetrying, MarkNextAttempt).

    /// <summary>The states a job is created in: submitted (queued) or registered from outside (running).</summary>
    public static readonly IReadOnlyList<JobState> Initial = [JobState.Queued, JobState.Running];

    private static readonly Dictionary<JobState, JobState[]> FromStates = Enum.GetValues<JobState>()
        .ToDictionary(to => to, to => Table.Where(t => t.To == to).Select(t => t.From).ToArray());

    public static bool IsAllowed(JobState from, JobState to) => Table.Any(t => t.From == from && t.To == to);

    /// <summary>The states a job may be in for a move to <paramref name="to"/>.</summary>
    public static IReadOnlyList<JobState> From(JobState to) => FromStates[to];

    /// <summary>True for a state nothing leaves: the job has ended.</summary>
    public static bool IsEnd(JobState state) => Table.All(t => t.From != state);
}
