using System.Globalization;
using Meeshkan.Agent.Config;
using Meeshkan.Agent.Gpus;

namespace Meeshkan.Cli.Setup;

/// <summary>`meeshkan setup --slots N --gpus auto|none|0,1,3 --gpu-busy-memory MIB --reserve-after SECONDS`.</summary>
internal sealed record QueueSetup(string? Slots, string? Gpus, string? GpuBusyMemory, string? ReserveAfter)
{
    public const int MaxSlots = 1024;

    public bool Any => Slots is not null || Gpus is not null || GpuBusyMemory is not null || ReserveAfter is not null;

    /// <summary>Throws <see cref="ArgumentException"/> with a one-line message when a value is not usable.</summary>
    public void ApplyTo(AgentConfig config)
    {
        if (Slots is not null)
        {
            config.Slots = Number(Slots, 1, MaxSlots, $"--slots must be a whole number of jobs to run at once, from 1 to {MaxSlots}");
        }
        if (Gpus is not null)
        {
            try
            {
                config.Gpus = GpuSelection.Normalize(Gpus);
            }
            catch (FormatException e)
            {
                throw new ArgumentException(e.Message);
            }
            RefuseMissingGpus(config.Gpus);
        }
        if (GpuBusyMemory is not null)
        {
            config.GpuBusyMemoryMib = Number(GpuBusyMemory, 0, 16 * 1024 * 1024,
                "--gpu-busy-memory must be the used memory in MiB (like 500) above which a GPU no job holds counts as busy");
        }
        if (ReserveAfter is not null)
        {
            config.ReserveAfterSeconds = Number(ReserveAfter, 0, int.MaxValue,
                "--reserve-after must be a whole number of seconds a job may wait before it goes first and its GPUs are kept for it");
        }
    }

    /// <summary>
    /// Listed GPUs must be on this machine (the agent runs here, with the same nvidia-smi); with no nvidia-smi to ask,
    /// they are taken at the user's word, as the agent does.
    /// </summary>
    private static void RefuseMissingGpus(string setting)
    {
        if (setting is GpuSelection.Auto or GpuSelection.None
            || NvidiaSmi.Query(TimeSpan.FromSeconds(10)) is not { } found || GpuSelection.NotFound(setting, found) is not [_, ..] missing)
        {
            return;
        }
        var seen = found.Count == 0 ? "nvidia-smi shows none" : $"nvidia-smi shows {string.Join(',', found.Select(g => g.Index))}";
        var (gpus, are) = missing.Count == 1 ? ("GPU", "is") : ("GPUs", "are");
        throw new ArgumentException($"{gpus} {string.Join(',', missing)} {are} not on this machine ({seen}): list only those, or use --gpus auto");
    }

    /// <summary>What the queue settings are now, for setup's closing lines.</summary>
    public static string Describe(AgentConfig config) =>
        $"{config.Slots} slot{(config.Slots == 1 ? "" : "s")}, GPUs {config.Gpus ?? GpuSelection.Auto}, " +
        $"GPU busy above {config.GpuBusyMemoryMib} MiB, reserve after {config.ReserveAfterSeconds} s";

    private static int Number(string text, int min, int max, string message) =>
        int.TryParse(text.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max
            ? n
            : throw new ArgumentException($"{message}, not '{text}'");
}
