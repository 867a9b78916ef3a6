using System.Globalization;
using Meeshkan.V1;

namespace Meeshkan.Cli.Output;

/// <summary>`meeshkan status`'s table of the GPUs the agent hands out: index, name, memory used, held by which job.</summary>
internal static class GpuTable
{
    public static void Print(AgentStatus status)
    {
        if (status.Gpus.Count == 0)
        {
            Console.WriteLine("  gpus         none to hand out (no nvidia-smi, or `meeshkan setup --gpus none`)");
            return;
        }
        Console.WriteLine($"  gpus         {status.Gpus.Count} (busy outside Meeshkan above {status.GpuBusyMemoryMib} MiB used)");
        var table = new TextTable("GPU", "NAME", "MEMORY USED", "HELD BY");
        foreach (var gpu in status.Gpus)
        {
            var held = gpu.Holders.Count > 0
                ? string.Join(", ", gpu.Holders.Select(h => h.Share >= 1 ? $"job {h.JobNumber}" : $"job {h.JobNumber} ({Share(h.Share)})"))
                : gpu.BusyOutside ? "busy outside Meeshkan" : "-";
            table.Add(gpu.Index.ToString(CultureInfo.InvariantCulture), gpu.Name,
                $"{gpu.MemoryUsedMib.ToString(CultureInfo.InvariantCulture)} / {gpu.MemoryTotalMib.ToString(CultureInfo.InvariantCulture)} MiB", held);
        }
        table.Print();
    }

    private static string Share(double share) => share == 0.5 ? "1/2" : share == 0.25 ? "1/4" : share.ToString(CultureInfo.InvariantCulture);
}
