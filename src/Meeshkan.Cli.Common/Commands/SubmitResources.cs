using System.Globalization;
using Meeshkan.V1;

namespace Meeshkan.Cli.Commands;

/// <summary>submit's --gpus, --gpu-ids and --priority: checked here (exit 2, nothing sent), then again by the agent.</summary>
internal static class SubmitResources
{
    public static void ApplyTo(SubmitJobRequest request, string? gpus, string? gpuIds, string? priority)
    {
        try
        {
            GpuAmount? amount = gpus is null ? null : GpuAmount.Parse(gpus);
            if (gpuIds is not null)
            {
                var ids = GpuAmount.ParseIds(gpuIds, "--gpu-ids");
                GpuAmount.ForIds(amount, ids);
                request.GpuIds.AddRange(ids);
            }
            request.Gpus = amount?.Value ?? 0;
        }
        catch (FormatException e)
        {
            throw new UsageException(e.Message);
        }
        if (priority is not null)
        {
            request.Priority = int.TryParse(priority.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var p) ? p
                : throw new UsageException($"--priority must be a whole number from {int.MinValue} to {int.MaxValue} (higher starts first), not '{priority}'");
        }
    }
}
