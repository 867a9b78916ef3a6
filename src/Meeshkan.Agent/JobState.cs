namespace Meeshkan.Agent;

/// <summary>
/// Where a job is in its life. The agent's own words: the store keeps them (Store/JobStore.StateCode), JobMapper
/// maps them to the wire, and Jobs/JobTransitions says which moves between them are allowed.
/// </summary>
public enum JobState
{
    Queued,
    Running,
    /// <summary>Exited with status 0.</summary>
    Finished,
    /// <summary>Exited with another status, was killed, could not start, or its end is unknown; see the failure reason.</summary>
    Failed,
    /// <summary>Canceled by the user, queued or running.</summary>
    Canceled,
}
