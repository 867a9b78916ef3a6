namespace Meeshkan.Cli.Output;

/// <summary>A scalar's history as one line of block characters: the small chart `report` draws in a terminal.</summary>
internal static class Sparkline
{
    private const string Blocks = "▁▂▃▄▅▆▇█";

    public static string Draw(IReadOnlyList<double> values)
    {
        var finite = values.Where(double.IsFinite).ToList();
        if (finite.Count == 0)
        {
            return "";
        }
        double min = finite.Min(), max = finite.Max();
        var span = max - min;
        return string.Concat(values.Select(v => !double.IsFinite(v)
            ? '·'
            : Blocks[span == 0 ? Blocks.Length / 2 : (int)Math.Round((v - min) / span * (Blocks.Length - 1))]));
    }
}
