using System.Globalization;

namespace Meeshkan.Agent.Gpus;

/// <summary>The variables that tell a job its GPUs and slot.</summary>
public static class GpuEnvironment
{
    /// <summary>
    /// The job's environment plus <c>MEESHKAN_SLOT</c>, <c>MEESHKAN_GPUS</c> and <c>CUDA_VISIBLE_DEVICES</c> (its GPUs
    /// only, numbered as nvidia-smi numbers them: <c>CUDA_DEVICE_ORDER=PCI_BUS_ID</c>). With one slot, a job that asked
    /// for no GPU sees every GPU, as before slots existed; with more, it sees none, so it cannot take another's.
    /// </summary>
    public static IReadOnlyDictionary<string, string> For(IReadOnlyDictionary<string, string>? environment, GpuRequest request,
        IReadOnlyList<int> gpus, int slot, int slots)
    {
        var env = new Dictionary<string, string>(environment ?? new Dictionary<string, string>());
        var list = string.Join(',', gpus.Select(g => g.ToString(CultureInfo.InvariantCulture)));
        env["MEESHKAN_SLOT"] = slot.ToString(CultureInfo.InvariantCulture);
        env["MEESHKAN_GPUS"] = list;
        if (request.Any || slots > 1)
        {
            env["CUDA_VISIBLE_DEVICES"] = list;
            env["CUDA_DEVICE_ORDER"] = "PCI_BUS_ID";
        }
        return env;
    }
}
