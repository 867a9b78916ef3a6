using Meeshkan.V1;

namespace Meeshkan.Internal;

/// <summary>A ScalarBatch being filled or waiting to be sent, with the name index used to fill it.</summary>
internal sealed class PendingBatch
{
    private readonly Dictionary<string, uint> _index = new(StringComparer.Ordinal);
    private double[] _last = new double[8];
    private long[] _touched = new long[8];

    public PendingBatch(string jobId, bool hasSteps, string clientId, ulong sequence)
    {
        HasSteps = hasSteps;
        Batch = new ScalarBatch { JobId = jobId, ClientId = clientId, Sequence = sequence };
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

    /// <summary>Copies the last value of each name added during <paramref name="cycle"/> into <paramref name="latest"/>.</summary>
    public void CollectLatest(long cycle, Dictionary<string, double> latest, HashSet<string> reported)
    {
        for (var i = 0; i < Batch.Names.Count; i++)
        {
            if (_touched[i] == cycle)
            {
                latest[Batch.Names[i]] = _last[i];
                reported.Add(Batch.Names[i]);
            }
        }
    }
}
