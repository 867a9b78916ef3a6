namespace Meeshkan;

/// <summary>What the agent does when a condition is met.</summary>
public enum ConditionAction
{
    /// <summary>Sends a notification (at most one per cooldown). The default.</summary>
    Notify,

    /// <summary>
    /// Stops the job (SIGTERM to its process group, SIGKILL after the grace period): it ends FAILED, stopped by the
    /// condition, with the values that met it, and is not retried. E.g. <c>AddCondition("isnan([train loss])",
    /// action: ConditionAction.Stop)</c>.
    /// </summary>
    Stop,
}
