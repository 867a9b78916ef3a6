namespace Meeshkan.Internal;

/// <summary>One AddCondition call: an expression the agent evaluates, or a function evaluated here.</summary>
internal sealed class Condition
{
    /// <summary>The value of a scalar that has not been reported yet.</summary>
    public const double DefaultValue = 1.0;

    private static long s_nextId;
    private readonly Dictionary<string, string> _agentIds = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    public Condition(IReadOnlyList<string> names, Func<double[], bool>? function, string? expression,
        string description, bool onlyReported, ConditionAction action = ConditionAction.Notify)
    {
        Action = action;
        LocalId = Interlocked.Increment(ref s_nextId);
        Names = names;
        Function = function;
        Expression = expression;
        Description = description;
        OnlyReported = onlyReported;
    }

    public long LocalId { get; }
    public IReadOnlyList<string> Names { get; }
    public Func<double[], bool>? Function { get; }
    public string? Expression { get; }
    public string Description { get; }
    public bool OnlyReported { get; }
    public ConditionAction Action { get; }
    public bool EvaluatedByClient => Function is not null;

    /// <summary>The agent refused it; it is neither registered again nor evaluated.</summary>
    public volatile bool Rejected;

    /// <summary>The agent's id for this condition in <paramref name="jobId"/>, once registered.</summary>
    public string? AgentId(string jobId)
    {
        lock (_lock)
        {
            return _agentIds.GetValueOrDefault(jobId);
        }
    }

    public void Registered(string jobId, string conditionId)
    {
        lock (_lock)
        {
            _agentIds[jobId] = conditionId;
        }
    }

    /// <summary>The condition's scalars with their latest values (1 for those not reported yet).</summary>
    public double[] Values(IReadOnlyDictionary<string, double> latest)
    {
        var values = new double[Names.Count];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = latest.TryGetValue(Names[i], out var value) ? value : DefaultValue;
        }
        return values;
    }
}
