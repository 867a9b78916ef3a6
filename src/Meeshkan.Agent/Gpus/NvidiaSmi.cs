using System.Diagnostics;
using System.Globalization;

namespace Meeshkan.Agent.Gpus;

/// <summary>
/// Reads the machine's GPUs from <c>nvidia-smi</c> (the first on the agent's PATH). No nvidia-smi, or one that fails,
/// means no GPUs: a machine without NVIDIA's driver has none to hand out.
/// </summary>
public static class NvidiaSmi
{
    public static readonly string[] Arguments =
        ["--query-gpu=index,uuid,name,memory.total,memory.used", "--format=csv,noheader,nounits"];

    /// <summary>The GPUs, or null when nvidia-smi is missing, fails or takes longer than <paramref name="timeout"/>.</summary>
    public static IReadOnlyList<Gpu>? Query(TimeSpan timeout)
    {
        var start = new ProcessStartInfo("nvidia-smi")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in Arguments)
        {
            start.ArgumentList.Add(argument);
        }
        try
        {
            using var process = Process.Start(start);
            if (process is null)
            {
                return null;
            }
            process.StandardInput.Close();
            var stdout = process.StandardOutput.ReadToEndAsync();
            _ = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(timeout))
            {
                process.Kill(entireProcessTree: true);
                return null;
            }
            return process.ExitCode == 0 ? Parse(stdout.Result) : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }

    /// <summary>
    /// Parses <c>index, uuid, name, memory.total, memory.used</c> lines. A line that does not parse (a driver's
    /// "[N/A]", a warning) is skipped: that GPU is not handed out.
    /// </summary>
    public static IReadOnlyList<Gpu> Parse(string csv)
    {
        var gpus = new List<Gpu>();
        foreach (var line in csv.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var fields = line.Split(',', StringSplitOptions.TrimEntries);
            if (fields.Length < 5
                || !int.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out var index)
                || !long.TryParse(fields[^2], NumberStyles.None, CultureInfo.InvariantCulture, out var total)
                || !long.TryParse(fields[^1], NumberStyles.None, CultureInfo.InvariantCulture, out var used))
            {
                continue;
            }
            // A name may itself hold a comma: everything between the uuid and the two memory fields.
            var name = string.Join(", ", fields[2..^2]);
            gpus.Add(new Gpu(index, fields[1], name, total, used));
        }
        return gpus;
    }
}
