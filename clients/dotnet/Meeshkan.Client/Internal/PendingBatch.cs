using Meeshkan.V1;

namespace Meeshkan.Internal;

/// <summary>A ScalarBatch being filled or waiting to be sent, with the name index used to fill it.</summary>
internal sealed class PendingBatch
{
    private readonly Dictionary<string, uint> _index = new(StringComparer.Ordinal);
    private double[] _last = new double[8];
    private long[] _touched = new long[8];

    // Names are usually the same string instances (literals) point after point: a reference check
    // on the few most recent ones saves most dictionary lookups.
    private readonly string?[] _recentNames = new string?[4];
    private readonly uint[] _recentIndexes = new uint[4];
    private int _recentNext;

    public PendingBatch(string jobId, bool hasSteps, string clientId, ulong sequence, int expectedPoints)
    {
        HasSteps = hasSteps;
        Batch = new ScalarBatch { JobId = jobId, ClientId = clientId, Sequence = sequence };
        // Sized once: growing 100,000-element arrays by doubling costs large-object-heap garbage.
        Batch.NameIndex.Capacity = expectedPoints;
        Batch.Values.Capacity = expectedPoints;
        Batch.WallTimeUs.Capacity = expectedPoints;
        if (hasSteps)
        {
            Batch.Steps.Capacity = expectedPoints;
        }
    }

    public ScalarBatch Batch { get; }

    public string JobId => Batch.JobId;

    /// <summary>Points carry explicit steps (the whole batch does, or none of it).</summary>
    public bool HasSteps { get; }

    public int Points => Batch.Values.Count;

    /// <summary>
    /// Once sent (even if the reply was lost) the batch is frozen, so that a retry carries exactly
    /// the same points under the same sequence number and the agent can drop the duplicate.
    /// </summary>
    public bool Attempted { get; set; }

    public void Add(string name, double value, long step, long wallTimeUs, long cycle)
    {
        var index = IndexOf(name);
        Batch.NameIndex.Add(index);
        Batch.Values.Add(value);
        Batch.WallTimeUs.Add(wallTimeUs);
        if (HasSteps)
        {
            Batch.Steps.Add(step);
        }
        _last[index] = value;
        _touched[index] = cycle;
    }

    private uint IndexOf(string name)
    {
        var recent = _recentNames;
        for (var i = 0; i < recent.Length; i++)
        {
            if (ReferenceEquals(recent[i], name))
            {
                return _recentIndexes[i];
            }
        }
        if (!_index.TryGetValue(name, out var index))
        {
            index = (uint)_index.Count;
            _index.Add(name, index);
            Batch.Names.Add(name);
            if (index == _last.Length)
            {
                Array.Resize(ref _last, _last.Length * 2);
                Array.Resize(ref _touched, _touched.Length * 2);
            }
        }
        recent[_recentNext] = name;
        _recentIndexes[_recentNext] = index;
        _recentNext = (_recentNext + 1) & (recent.Length - 1);
        return index;
    }

    /// <summary>Copies the last value of each name added during <paramref name="cycle"/> into <paramref name="latest"/>.</summary>
    public void CollectLatest(long cycle, Dictionary<string, double> latest)
    {
        for (var i = 0; i < Batch.Names.Count; i++)
        {
            if (_touched[i] == cycle)
            {
                latest[Batch.Names[i]] = _last[i];
            }
        }
    }
}
