using Meeshkan.Agent.Store;
using Meeshkan.V1;

namespace Meeshkan.Agent;

/// <summary>
/// Hears what happens to jobs (notifications listen here). Called on the agent's hot paths:
/// implementations hand work off and return at once, and never throw.
/// </summary>
public interface IAgentObserver
{
    void JobStarted(JobRecord job) { }

    void JobEnded(JobRecord job) { }

    void ScalarsReported(JobRecord job, IReadOnlyList<ScalarStore.Series> series) { }

    void ConditionMet(JobRecord job, ConditionEvent conditionEvent, bool onlyReported) { }

    void CustomMessage(JobRecord job, string message) { }

    /// <summary>An attempt failed and the job is retried: "attempt 2 of 3 failed (exit 137), retrying in 30 s".</summary>
    void AttemptFailed(JobRecord job, string message) { }
}
