namespace Meeshkan.Agent.Charts;

/// <summary>
/// Which scalars share a panel of a chart: those whose typical values are within about a decade of each other. A loss (0.3) and an accuracy (0.9) share one; a learning rate (0.001), a throughput (1,500 samples/s) and a
/// step counter each get their own, so that none is drawn as a flat line on zero. At most four panels: beyond that the
/// closest scales are put together. With a log scale every scale reads on one axis: one panel.
/// </summary>
public static class ChartPanels
{
    public const int MaxPanels = 4;

    /// <summary>Decades between the typical value of the first and of the last scalar of one panel.</summary>
    private const double DecadesPerPanel = 1.2;

    /// <summary>The series grouped into panels, each panel in the order the series came, panels by their first series.</summary>
    public static IReadOnlyList<IReadOnlyList<ChartSeries>> Group(IReadOnlyList<ChartSeries> series, bool logY = false)
    {
        if (series.Count == 0)
        {
            return [];
        }
        if (logY || series.Count == 1)
        {
            return [series];
        }
        var byScale = series.Select((s, index) => (Series: s, Index: index, Scale: Scale(s))).OrderBy(s => s.Scale).ToList();
        var groups = new List<List<(ChartSeries Series, int Index, double Scale)>>();
        foreach (var s in byScale)
        {
            if (groups.Count > 0 && s.Scale - groups[^1][0].Scale <= DecadesPerPanel)
            {
                groups[^1].Add(s);
            }
            else
            {
                groups.Add([s]);
            }
        }
        while (groups.Count > MaxPanels)
        {
            // Merge the two neighbouring panels whose scales are closest.
            var closest = Enumerable.Range(0, groups.Count - 1).MinBy(i => groups[i + 1][0].Scale - groups[i][^1].Scale);
            groups[closest].AddRange(groups[closest + 1]);
            groups.RemoveAt(closest + 1);
        }
        return groups
            .Select(g => g.OrderBy(s => s.Index).ToList())
            .OrderBy(g => g[0].Index)
            .Select(g => (IReadOnlyList<ChartSeries>)g.Select(s => s.Series).ToList())
            .ToList();
    }

    /// <summary>
    /// The decade of the series' typical magnitude: the median of its finite, non-zero values (0 when it has none), so
    /// that a learning rate decaying from 0.1 to 1e-5 counts as small, not as the 0.1 it started from.
    /// </summary>
    private static double Scale(ChartSeries s)
    {
        var magnitudes = s.Values.Where(v => double.IsFinite(v) && v != 0).Select(Math.Abs).Order().ToList();
        return magnitudes.Count == 0 ? 0 : Math.Log10(magnitudes[magnitudes.Count / 2]);
    }
}
