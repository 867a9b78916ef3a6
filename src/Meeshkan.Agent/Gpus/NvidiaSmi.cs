using System.Globalization;
using Meeshkan.Agent.Internal;

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
        try
        {
            var (exitCode, stdout, _) = ShortCommand.RunAsync("nvidia-smi", Arguments, null, timeout).GetAwaiter().GetResult();
            return exitCode == 0 ? Parse(stdout) : null;
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or TimeoutException)
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
