namespace Meeshkan.Bench;

/// <summary>task-spooler (`tsp`) with its own socket and temp folder, so that it never meets the user's queue.</summary>
internal sealed class TaskSpooler(string folder)
{
    private readonly Dictionary<string, string> _env = new()
    {
        ["TS_SOCKET"] = Path.Combine(folder, "tsp.sock"),
        ["TMPDIR"] = folder,
        ["TS_MAXFINISHED"] = "100000",
    };

    /// <summary>Kills the server (and its queue) so that each run starts from nothing.</summary>
    public void Reset()
    {
        Directory.CreateDirectory(folder);
        Programs.Run("tsp", ["-K"], _env);
    }

    /// <summary>`tsp true` <paramref name="count"/> times, one process each, then waits for the last job: wall ms.</summary>
    public double Dispatch(int count)
    {
        Reset();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var last = "";
        for (var i = 0; i < count; i++)
        {
            var (code, output) = Programs.Run("tsp", ["true"], _env);
            if (code != 0)
            {
                throw new InvalidOperationException($"tsp true exited {code}: {output}");
            }
            last = output.Trim();
        }
        // -w waits for that job to end; jobs run one at a time, so it is the last to end.
        Programs.Run("tsp", ["-w", last], _env);
        return clock.Elapsed.TotalMilliseconds;
    }

    /// <summary>`tsp -S slots`, then `tsp true` <paramref name="count"/> times, then waits until every job ended: wall ms.</summary>
    public double DispatchParallel(int count, int slots)
    {
        Reset();
        Programs.Run("tsp", ["-S", slots.ToString(System.Globalization.CultureInfo.InvariantCulture)], _env);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (var i = 0; i < count; i++)
        {
            Programs.Run("tsp", ["true"], _env);
        }
        // -w with no id waits for the last job; with several slots others may still run: wait for the queue to empty.
        while (Programs.Run("tsp", ["-l"], _env).Output.Contains("running", StringComparison.Ordinal)
               || Programs.Run("tsp", ["-l"], _env).Output.Contains("queued", StringComparison.Ordinal))
        {
            Thread.Sleep(5);
        }
        return clock.Elapsed.TotalMilliseconds;
    }

    /// <summary>One `tsp -l`: ms.</summary>
    public double List() => Programs.Time("tsp", ["-l"], _env);
}
