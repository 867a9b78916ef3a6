namespace Meeshkan.Agent.Conditions;

/// <summary>
/// One job's conditions and the latest value of every scalar they read (1 for a scalar not reported yet).
/// Guarded by <see cref="Gate"/>.
/// </summary>
internal sealed class JobConditions
{
    /// <summary>What a condition sees for a scalar that has not been reported yet.</summary>
    public const double DefaultValue = 1;

    private double[] _values = [];
    private readonly List<List<Condition>> _readers = [];

    public Lock Gate { get; } = new();

    public Dictionary<string, Condition> ById { get; } = new(StringComparer.Ordinal);

    /// <summary>Index into <see cref="Values"/> of each scalar name an agent-evaluated condition reads.</summary>
    public Dictionary<string, int> Slots { get; } = new(StringComparer.Ordinal);

    /// <summary>Latest value per slot.</summary>
    public double[] Values => _values;

    /// <summary>The agent-evaluated conditions reading a slot.</summary>
    public IReadOnlyList<Condition> ReadersOf(int slot) => _readers[slot];

    public int SlotOf(string name) => Slots[name];

    /// <summary>Gives a name a slot holding <paramref name="latest"/> (or the default) unless it has one.</summary>
    public void EnsureSlot(string name, double? latest)
    {
        if (Slots.ContainsKey(name))
        {
            return;
        }
        Slots[name] = _values.Length;
        Array.Resize(ref _values, _values.Length + 1);
        _values[^1] = latest ?? DefaultValue;
        _readers.Add([]);
    }

    /// <summary>Adds a condition; an agent-evaluated one must have its slots (see <see cref="EnsureSlot"/>) and be compiled.</summary>
    public void Add(Condition condition)
    {
        ById[condition.Id] = condition;
        foreach (var slot in condition.Slots.Distinct())
        {
            _readers[slot].Add(condition);
        }
    }
}
