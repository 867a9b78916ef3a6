using System.Diagnostics;

namespace Meeshkan.Bench;

/// <summary>Starts the programs under test and times them from outside, the way a user's shell would.</summary>
internal static class Programs
{
    /// <summary>Runs a program to its end with its output discarded; returns the wall time in milliseconds.</summary>
    public static double Time(string file, IEnumerable<string> args, IReadOnlyDictionary<string, string>? env = null, bool check = true)
    {
        var clock = Stopwatch.StartNew();
        var (code, output) = Run(file, args, env);
        var elapsed = clock.Elapsed.TotalMilliseconds;
        if (check && code != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited {code}: {output}");
        }
        return elapsed;
    }

    /// <summary>Runs a program to its end; returns its exit code and what it printed.</summary>
    public static (int Code, string Output) Run(string file, IEnumerable<string> args, IReadOnlyDictionary<string, string>? env = null)
    {
        var start = new ProcessStartInfo(file)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        foreach (var (key, value) in env ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        return (process.ExitCode, stdout.Result + stderr.Result);
    }

    /// <summary>Resident memory of a process in MB, from /proc.</summary>
    public static double RssMb(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024.0;
            }
        }
        throw new InvalidOperationException($"no VmRSS for pid {pid}");
    }

    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? double.NaN
            : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2]
            : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
