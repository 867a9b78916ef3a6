using System.Globalization;
using Meeshkan.Agent.Scheduler;
using Meeshkan.Agent.Store;
using Meeshkan.V1;

namespace Meeshkan.Agent.Jobs;

/// <summary>
/// Hears conditions met: one whose action is stop (submit --stop-if, add_condition(..., action="stop")) asks the run
/// loop to stop its job (SIGTERM, grace, SIGKILL); the job ends FAILED "stopped by condition ..." with the values that
/// met it, and is not retried.
/// </summary>
public sealed class ConditionStops(RunLoopInbox runLoop) : IAgentObserver
{
    public void ConditionMet(JobRecord job, ConditionEvent conditionEvent, bool onlyReported)
    {
        if (conditionEvent.Action == ConditionAction.Stop)
        {
            runLoop.StopRunningJob(job.Number, Reason(conditionEvent));
        }
    }

    /// <summary>"stopped by condition isnan([train loss]) (train loss = NaN)".</summary>
    public static string Reason(ConditionEvent met)
    {
        var values = string.Join(", ", met.Values.OrderBy(v => v.Key, StringComparer.Ordinal)
            .Select(v => $"{v.Key} = {v.Value.ToString("R", CultureInfo.InvariantCulture)}"));
        return $"stopped by condition {met.Description}" + (values.Length > 0 ? $" ({values})" : "");
    }
}
