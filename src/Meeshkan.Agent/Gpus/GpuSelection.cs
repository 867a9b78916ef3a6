namespace Meeshkan.Agent.Gpus;

/// <summary>
/// <c>setup --gpus</c>: which GPUs the agent hands out. <c>auto</c> (the default): every GPU nvidia-smi shows;
/// <c>none</c>: no GPU; <c>3,1,0</c>: those, preferred in that order.
/// </summary>
public static class GpuSelection
{
    public const string Auto = "auto";
    public const string None = "none";

    /// <summary>The setting in its stored form; throws <see cref="FormatException"/> with a one-line message.</summary>
    public static string Normalize(string setting)
    {
        var s = setting.Trim().ToLowerInvariant();
        if (s is Auto or "" || s is None)
        {
            return s.Length == 0 ? Auto : s;
        }
        try
        {
            return string.Join(',', GpuAmount.ParseIds(s, "--gpus"));
        }
        catch (FormatException)
        {
            throw new FormatException($"setup --gpus takes auto, none, or GPU indexes separated by commas (like 0,1,3), not '{setting}'");
        }
    }

    /// <summary>
    /// The GPUs to hand out, in the order of preference. Listed GPUs that nvidia-smi does not show are left out; when
    /// nvidia-smi itself is missing (<paramref name="discovered"/> null), listed GPUs are taken at the user's word.
    /// </summary>
    public static IReadOnlyList<Gpu> Apply(string? setting, IReadOnlyList<Gpu>? discovered)
    {
        var s = Normalize(setting ?? Auto);
        if (s == None)
        {
            return [];
        }
        if (s == Auto)
        {
            return discovered ?? [];
        }
        var ids = GpuAmount.ParseIds(s, "--gpus");
        if (discovered is null)
        {
            return ids.Select(i => new Gpu(i, "", "(not seen: no nvidia-smi)", 0, 0)).ToList();
        }
        return ids.Select(i => discovered.FirstOrDefault(g => g.Index == i)).OfType<Gpu>().ToList();
    }

    /// <summary>The listed GPUs that <see cref="Apply"/> leaves out because nvidia-smi does not show them.</summary>
    public static IReadOnlyList<int> NotFound(string? setting, IReadOnlyList<Gpu> discovered)
    {
        var s = Normalize(setting ?? Auto);
        return s is Auto or None ? [] : GpuAmount.ParseIds(s, "--gpus").Where(i => discovered.All(g => g.Index != i)).ToList();
    }
}
