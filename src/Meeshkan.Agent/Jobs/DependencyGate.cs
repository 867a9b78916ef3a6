using Meeshkan.V1;

namespace Meeshkan.Agent.Jobs;

/// <summary>
/// Whether a queued job's dependencies let it start (submit --after, --after-any): a pure function of the states of
/// the jobs it waits for, so the scheduling policy filters on it and tests need no process.
/// </summary>
public static class DependencyGate
{
    /// <summary>What a job's dependencies say.</summary>
    public abstract record Verdict;

    /// <summary>Every dependency is satisfied (or there are none).</summary>
    public sealed record Ready : Verdict;

    /// <summary>Job <paramref name="On"/> has not ended yet (or waits for its next attempt).</summary>
    public sealed record Waiting(long On) : Verdict
    {
        public string Reason => $"waiting for job {On}";
    }

    /// <summary>An --after dependency failed or was canceled: the job can never start and ends FAILED.</summary>
    public sealed record Failed(long Dependency, string Reason) : Verdict;

    private static readonly Ready Go = new();

    /// <summary>
    /// Checks <paramref name="after"/> (must all have FINISHED) and <paramref name="afterAny"/> (must have ended,
    /// however) against <paramref name="stateOf"/>: a job's state and failure reason, or null for a job no longer
    /// stored (cleared, so ended). A failed --after dependency decides at once, even while others still run.
    /// </summary>
    public static Verdict Check(IReadOnlyList<long> after, IReadOnlyList<long> afterAny, Func<long, (JobState State, string? Reason)?> stateOf)
    {
        if (after.Count == 0 && afterAny.Count == 0)
        {
            return Go;
        }
        Waiting? waiting = null;
        foreach (var number in after)
        {
            switch (stateOf(number))
            {
                case null:
                    return new Failed(number, $"dependency {number} failed (it was cleared before it could be checked)");
                case { State: JobState.Finished }:
                    break;
                case { State: JobState.Failed, Reason: var reason }:
                    return new Failed(number, $"dependency {number} failed" + (string.IsNullOrEmpty(reason) ? "" : $" ({reason})"));
                case { State: JobState.Canceled }:
                    return new Failed(number, $"dependency {number} failed (it was canceled)");
                default:
                    waiting ??= new Waiting(number);
                    break;
            }
        }
        foreach (var number in afterAny)
        {
            if (stateOf(number) is { State: var state } && !IsEnded(state))
            {
                waiting ??= new Waiting(number);
            }
        }
        return waiting ?? (Verdict)Go;
    }

    private static bool IsEnded(JobState state) => state is JobState.Finished or JobState.Failed or JobState.Canceled;
}
