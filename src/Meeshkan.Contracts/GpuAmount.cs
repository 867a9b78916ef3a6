using System.Globalization;

namespace Meeshkan;

/// <summary>
/// How much GPU a job asks for, counted in quarters: 1/4 and 1/2 of one GPU (shared with other such jobs), or whole
/// GPUs held by the job alone. The one parser of <c>--gpus</c> and <c>--gpu-ids</c>, for the CLI and the agent.
/// </summary>
public readonly record struct GpuAmount(int Quarters)
{
    /// <summary>More than any machine has; keeps the arithmetic far from overflow.</summary>
    public const int MaxWhole = 1024;

    public static readonly GpuAmount None = new(0);

    public bool IsFraction => Quarters is 1 or 2;

    /// <summary>Whole GPUs (0 for a fraction).</summary>
    public int Whole => Quarters / 4;

    /// <summary>As on the wire and in <c>MEESHKAN_GPUS</c>-style text: 0.25, 0.5, 1, 2.</summary>
    public double Value => Quarters / 4.0;

    public override string ToString() => Quarters switch
    {
        1 => "1/4",
        2 => "1/2",
        _ => Whole.ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>"1 GPU", "2 GPUs", "1/2 of a GPU": for waiting reasons and notifications.</summary>
    public string Describe() => Quarters switch
    {
        1 => "1/4 of a GPU",
        2 => "1/2 of a GPU",
        4 => "1 GPU",
        _ => $"{Whole} GPUs",
    };

    /// <summary>Parses <c>--gpus</c>: a whole number, or 0.5, 0.25, 1/2, 1/4.</summary>
    /// <exception cref="FormatException">A one-line message saying what is allowed.</exception>
    public static GpuAmount Parse(string text)
    {
        var t = text.Trim();
        if (t is "1/2" or "0.5" or ".5")
        {
            return new GpuAmount(2);
        }
        if (t is "1/4" or "0.25" or ".25")
        {
            return new GpuAmount(1);
        }
        if (int.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out var whole) && whole <= MaxWhole)
        {
            return new GpuAmount(whole * 4);
        }
        if (double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && number == Math.Floor(number)
            && number is >= 0 and <= MaxWhole)
        {
            return new GpuAmount((int)number * 4);
        }
        throw new FormatException(
            $"--gpus must be a whole number of GPUs or a share of one GPU (1/2 or 1/4, also written 0.5, 0.25), not '{text}'");
    }

    /// <summary>The amount a <c>gpus</c> field on the wire holds; the same rules as <see cref="Parse"/>.</summary>
    public static GpuAmount FromValue(double value) => value switch
    {
        0.25 => new GpuAmount(1),
        0.5 => new GpuAmount(2),
        >= 0 and <= MaxWhole when value == Math.Floor(value) => new GpuAmount((int)value * 4),
        _ => throw new FormatException(
            $"--gpus must be a whole number of GPUs or a share of one GPU (1/2 or 1/4, also written 0.5, 0.25), not {value.ToString(CultureInfo.InvariantCulture)}"),
    };

    /// <summary>
    /// The amount a job asking for these GPUs (<c>--gpu-ids</c>) needs: <paramref name="amount"/> of them, or all of
    /// them, whole, when no amount is given.
    /// </summary>
    /// <exception cref="FormatException">When the two do not fit together.</exception>
    public static GpuAmount ForIds(GpuAmount? amount, IReadOnlyList<int> ids)
    {
        var wanted = amount ?? new GpuAmount(ids.Count * 4);
        if (wanted.Quarters == 0)
        {
            throw new FormatException("--gpu-ids with --gpus 0 asks for no GPU: drop one of them");
        }
        return wanted.Whole > ids.Count
            ? throw new FormatException($"--gpus {wanted} needs {wanted.Whole} GPUs but --gpu-ids names {ids.Count}: name more GPUs or ask for fewer")
            : wanted;
    }

    /// <summary>Parses a list of GPU indexes, <c>0,2</c> (for <c>--gpu-ids</c> and <c>setup --gpus</c>).</summary>
    /// <exception cref="FormatException">A one-line message naming <paramref name="option"/>.</exception>
    public static IReadOnlyList<int> ParseIds(string text, string option)
    {
        var ids = new List<int>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var id) || id > 9999)
            {
                throw new FormatException($"{option} takes GPU indexes as nvidia-smi numbers them, separated by commas (like 0,2), not '{text}'");
            }
            if (ids.Contains(id))
            {
                throw new FormatException($"{option} names GPU {id} twice; give each GPU once (like 0,2)");
            }
            ids.Add(id);
        }
        return ids;
    }
}
