namespace Meeshkan.Agent.Gpus;

/// <summary>
/// What one job asks of the GPUs: an amount, and optionally the GPUs it may use (<c>--gpu-ids</c>, in the user's
/// order of preference). With ids and no amount, the job needs exactly those GPUs, whole.
/// </summary>
public sealed record GpuRequest(GpuAmount Amount, IReadOnlyList<int>? Ids = null)
{
    public static readonly GpuRequest None = new(GpuAmount.None);

    public bool Any => Amount.Quarters > 0;

    /// <summary>The request of <c>--gpus</c> and <c>--gpu-ids</c> as given (either may be missing).</summary>
    /// <exception cref="FormatException">When the two do not fit together.</exception>
    public static GpuRequest Of(GpuAmount? amount, IReadOnlyList<int>? ids)
    {
        if (ids is not { Count: > 0 })
        {
            return amount is { } a ? new GpuRequest(a) : None;
        }
        return new GpuRequest(GpuAmount.ForIds(amount, ids), ids);
    }

    /// <summary>"2 GPUs", "1/2 of a GPU (of 0, 2)".</summary>
    public string Describe() => Ids is { Count: > 0 } ids
        ? ids.Count * 4 == Amount.Quarters
            ? (ids.Count == 1 ? $"GPU {ids[0]}" : $"GPUs {string.Join(',', ids)}")
            : $"{Amount.Describe()} of GPUs {string.Join(',', ids)}"
        : Amount.Describe();
}
