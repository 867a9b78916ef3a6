using System.Diagnostics;
using Meeshkan.V1;

namespace Meeshkan.Testing;

/// <summary>Waiting in tests: polls until a condition holds, and fails loudly, naming what it waited for, when it does not.</summary>
public static class Wait
{
    public static void For(Func<bool> condition, string what, double seconds = 10)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(seconds))
            {
                throw new TimeoutException($"waited {seconds} s for {what}, in vain");
            }
            Thread.Sleep(20);
        }
    }

    public static async Task ForAsync(Func<bool> condition, string what, double seconds = 10)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(seconds))
            {
                throw new TimeoutException($"waited {seconds} s for {what}, in vain");
            }
            await Task.Delay(20);
        }
    }
}

/// <summary>Processes as the kernel sees them.</summary>
public static class Processes
{
    /// <summary>True while the process runs (a zombie, exited but not reaped, does not count).</summary>
    public static bool Alive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return pid > 0 && stat[(stat.LastIndexOf(')') + 2)] != 'Z';
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>The parent of a process (from /proc/PID/stat), or 0 when it is gone.</summary>
    public static int ParentOf(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
    }

    /// <summary>A process's argv (from /proc/PID/cmdline); empty when it is gone.</summary>
    public static string[] CommandLine(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").TrimEnd('\0').Split('\0');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    /// <summary>A field of /proc/PID/status in kB ("VmRSS:", the resident memory; "VmHWM:", its peak).</summary>
    public static long StatusKb(int pid, string field) =>
        long.Parse(File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith(field, StringComparison.Ordinal))
            .Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>ScalarBatch messages as a client builds them.</summary>
public static class ScalarBatches
{
    /// <summary>A batch of points (name, value), names listed once, steps left to the agent.</summary>
    public static ScalarBatch Of(string jobId, params (string Name, double Value)[] points)
    {
        var batch = new ScalarBatch { JobId = jobId };
        foreach (var (name, value) in points)
        {
            var index = batch.Names.IndexOf(name);
            if (index < 0)
            {
                batch.Names.Add(name);
                index = batch.Names.Count - 1;
            }
            batch.NameIndex.Add((uint)index);
            batch.Values.Add(value);
        }
        return batch;
    }
}

/// <summary>TCP ports on loopback.</summary>
public static class Ports
{
    /// <summary>A port free on 127.0.0.1 just now (the system's pick), for a listener the test starts next.</summary>
    public static int Free()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
