namespace Meeshkan.Agent.Conditions;

/// <summary>One registered condition of a job, as the engine holds it.</summary>
internal sealed class Condition
{
    public required string Id { get; init; }

    /// <summary>The scalars it reads; a firing reports their values.</summary>
    public required IReadOnlyList<string> Names { get; init; }

    /// <summary>Shown in notifications: the user's description, or the expression.</summary>
    public required string Description { get; init; }

    /// <summary>Null for a condition the client evaluates.</summary>
    public ConditionExpression? Expression { get; init; }

    public bool EvaluatedByClient => Expression is null;

    public bool OnlyReported { get; init; }

    /// <summary>When met, the agent stops the job (submit --stop-if, add_condition(..., action="stop")).</summary>
    public bool Stops { get; init; }

    public required TimeSpan Cooldown { get; init; }

    public DateTimeOffset? LastFiredAt { get; set; }

    /// <summary>The compiled expression over the job's latest values (agent-evaluated conditions only).</summary>
    public Func<double[], bool>? IsMet { get; set; }

    /// <summary>Index of each of <see cref="Names"/> in the job's latest values (agent-evaluated conditions only).</summary>
    public int[] Slots { get; set; } = [];

    /// <summary>An evaluation threw once already: logged once, not once per point.</summary>
    public bool FailureLogged { get; set; }

    public bool InCooldown(DateTimeOffset now) => LastFiredAt is { } fired && now - fired < Cooldown;
}
