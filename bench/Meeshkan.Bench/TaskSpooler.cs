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
        // The old server may still hold the socket for a moment: a client meeting it fails ("recv_msg").
        Thread.Sleep(300);
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
        var last = "";
        for (var i = 0; i < count; i++)
        {
            last = Programs.Run("tsp", ["true"], _env).Output.Trim();
        }
        // -w waits for the last job to end; with several slots a few others may still run: then the queue must empty.
        Programs.Run("tsp", ["-w", last], _env);
        while (Programs.Run("tsp", ["-l"], _env).Output is var listed
               && (listed.Contains("running", StringComparison.Ordinal) || listed.Contains("queued", StringComparison.Ordinal)))
        {
            Thread.Sleep(5);
        }
        return clock.Elapsed.TotalMilliseconds;
    }

    /// <summary>
    /// The queue's own rate, without its clients: `tsp -S slots`, one job per slot that waits for a gate file, then
    /// <paramref name="count"/> x `tsp true` queued behind them; the clock runs from opening the gate until every job
    /// ended: wall ms.
    /// </summary>
    public double RunQueued(int count, int slots)
    {
        Reset();
        Programs.Run("tsp", ["-S", slots.ToString(System.Globalization.CultureInfo.InvariantCulture)], _env);
        var gate = Path.Combine(folder, "gate");
        File.Delete(gate);
        for (var i = 0; i < slots; i++)
        {
            Programs.Run("tsp", ["sh", "-c", $"while [ ! -e '{gate}' ]; do sleep 0.001; done"], _env);
        }
        var last = "";
        for (var i = 0; i < count; i++)
        {
            last = Programs.Run("tsp", ["true"], _env).Output.Trim();
        }
        var clock = System.Diagnostics.Stopwatch.StartNew();
        File.WriteAllText(gate, "");
        Programs.Run("tsp", ["-w", last], _env);
        while (Programs.Run("tsp", ["-l"], _env).Output is var listed
               && (listed.Contains("running", StringComparison.Ordinal) || listed.Contains("queued", StringComparison.Ordinal)))
        {
            Thread.Sleep(2);
        }
        return clock.Elapsed.TotalMilliseconds;
    }

    /// <summary>`tsp -D previous true` <paramref name="count"/> times (a chain), then waits for the last: wall ms.</summary>
    public double DispatchChained(int count)
    {
        Reset();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var last = "";
        for (var i = 0; i < count; i++)
        {
            last = Programs.Run("tsp", last.Length == 0 ? ["true"] : ["-D", last, "true"], _env).Output.Trim();
        }
        Programs.Run("tsp", ["-w", last], _env);
        return clock.Elapsed.TotalMilliseconds;
    }

    /// <summary>
    /// Pairs of jobs, the second `tsp -D` the first: how long after the first's command ended the second's began, each
    /// writing the time (`date +%s%N`) as its last and first act, in ms.
    /// </summary>
    public List<double> DependencyGaps(int pairs)
    {
        Reset();
        var gaps = new List<double>();
        var ended = Path.Combine(folder, "ended");
        var started = Path.Combine(folder, "started");
        for (var i = 0; i < pairs; i++)
        {
            var first = Programs.Run("tsp", ["sh", "-c", $"sleep 0.1; date +%s%N > {ended}"], _env).Output.Trim();
            var second = Programs.Run("tsp", ["-D", first, "sh", "-c", $"date +%s%N > {started}"], _env).Output.Trim();
            Programs.Run("tsp", ["-w", second], _env);
            gaps.Add((long.Parse(File.ReadAllText(started).Trim()) - long.Parse(File.ReadAllText(ended).Trim())) / 1e6);
        }
        return gaps;
    }

    /// <summary>One `tsp -l`: ms.</summary>
    public double List() => Programs.Time("tsp", ["-l"], _env);
}
