namespace Meeshkan.Internal;

/// <summary>
/// Points appended by the training thread, column-wise, until the pump swaps the buffer out.
/// Not thread-safe: the reporter guards it with its lock.
/// </summary>
internal sealed class PointBuffer
{
    /// <summary>Step value meaning "let the agent number the points".</summary>
    public const long NoStep = -1;

    public string[] Names = new string[1024];
    public double[] Values = new double[1024];
    public long[] Steps = new long[1024];
    public long[] Timestamps = new long[1024];
    public int Count;

    public void Add(string name, double value, long step, long timestamp)
    {
        var count = Count;
        if (count == Names.Length)
        {
            Grow();
        }
        Names[count] = name;
        Values[count] = value;
        Steps[count] = step;
        Timestamps[count] = timestamp;
        Count = count + 1;
    }

    /// <summary>Empties the buffer, keeping its arrays for the next round.</summary>
    public void Reset()
    {
        Array.Clear(Names, 0, Count); // do not keep the caller's strings alive
        Count = 0;
    }

    private void Grow()
    {
        var size = Names.Length * 2;
        Array.Resize(ref Names, size);
        Array.Resize(ref Values, size);
        Array.Resize(ref Steps, size);
        Array.Resize(ref Timestamps, size);
    }
}
