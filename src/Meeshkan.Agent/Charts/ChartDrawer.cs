using ScottPlot;
using SkiaSharp;

namespace Meeshkan.Agent.Charts;

/// <summary>
/// Draws a job's scalars as a PNG with ScottPlot: one line per scalar over steps. Scalars of different scales (a loss,
/// a learning rate, a throughput, a step counter) go on separate panels, one above the other with the same steps, so
/// that none lies flat on zero (<see cref="ChartPanels"/>); a log scale on request. Steps are whole numbers, ticks few
/// enough to read, and NaN and infinite values are marked where they happened instead of vanishing.
/// </summary>
public static class ChartDrawer
{
    public const int DefaultWidth = 1000;
    public const int DefaultHeight = 600;
    private const int MaxSide = 4000;
    private const int MinSide = 200;

    /// <summary>The colour of the marks for NaN and infinite values (Category10's red, not used by the first lines).</summary>
    public static readonly SKColor NonFiniteColour = new(0xd6, 0x27, 0x28);

    /// <summary>
    /// A sans-serif font loaded from its file: the Skia that ScottPlot brings looks fonts up without fontconfig, and
    /// would otherwise take whichever font it finds first. Debian's fonts-dejavu-core has it.
    /// </summary>
    private static readonly string FontName = LoadFont();

    private static string LoadFont()
    {
        const string family = "DejaVu Sans";
        var folders = new[] { "/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu", "/usr/share/fonts/TTF" };
        foreach (var folder in folders)
        {
            var regular = Path.Combine(folder, "DejaVuSans.ttf");
            if (!File.Exists(regular))
            {
                continue;
            }
            Fonts.AddFontFile(family, regular, bold: false, italic: false);
            var bold = Path.Combine(folder, "DejaVuSans-Bold.ttf");
            if (File.Exists(bold))
            {
                Fonts.AddFontFile(family, bold, bold: true, italic: false);
            }
            return family;
        }
        return Fonts.Sans;
    }

    /// <summary>Draws the series (downsampled to about 2000 points each), on as many panels as their scales need.</summary>
    public static byte[] DrawPng(string title, IReadOnlyList<ChartSeries> series, int width = 0, int height = 0, bool logY = false)
    {
        width = width <= 0 ? DefaultWidth : Math.Clamp(width, MinSide, MaxSide);
        height = height <= 0 ? DefaultHeight : Math.Clamp(height, MinSide, MaxSide);
        var panels = ChartPanels.Group(series, logY);
        if (panels.Count <= 1)
        {
            return DrawPanel(title, panels.Count == 0 ? [] : panels[0], StepRange(series), logY, xLabel: true, 0).GetImageBytes(width, height, ImageFormat.Png);
        }
        using var surface = SKSurface.Create(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul));
        var canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        var steps = StepRange(series);
        var top = 0;
        var colour = 0;
        for (var i = 0; i < panels.Count; i++)
        {
            var panelHeight = (height - top) / (panels.Count - i);
            var plot = DrawPanel(i == 0 ? title : null, panels[i], steps, logY, xLabel: i == panels.Count - 1, colour);
            colour += panels[i].Count;
            using var bitmap = SKBitmap.Decode(plot.GetImageBytes(width, panelHeight, ImageFormat.Png));
            canvas.DrawBitmap(bitmap, 0, top);
            top += panelHeight;
        }
        using var image = surface.Snapshot();
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    /// <summary>One panel as ScottPlot draws it: the chart of series of one scale (tests read its axes).</summary>
    internal static Plot Panel(string? title, IReadOnlyList<ChartSeries> series, bool logY) =>
        DrawPanel(title, series, StepRange(series), logY, xLabel: true, 0);

    private static Plot DrawPanel(string? title, IReadOnlyList<ChartSeries> series, (double Min, double Max) steps, bool logY, bool xLabel, int firstColour)
    {
        var plot = new Plot();
        plot.Font.Set(FontName);
        if (title is not null)
        {
            plot.Title(title);
        }
        if (xLabel)
        {
            plot.XLabel("step");
        }
        plot.YLabel(logY ? "value (log scale)" : "value");
        // Steps are whole numbers: no tick at 0.1 of a step; a handful of ticks on each axis.
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true, TargetTickCount = 8 };
        plot.Axes.Left.TickGenerator = logY
            ? new ScottPlot.TickGenerators.NumericAutomatic
            {
                MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
                IntegerTicksOnly = true,
                TargetTickCount = 5,
                LabelFormatter = exponent => Label(Math.Pow(10, exponent)),
            }
            : new ScottPlot.TickGenerators.NumericAutomatic { TargetTickCount = 5, LabelFormatter = Label };

        var palette = new ScottPlot.Palettes.Category10();
        var drawn = 0;
        var marks = new List<(ChartSeries Series, double[] Steps, double[] Signs)>();
        foreach (var s in series)
        {
            var (xs, ys, bad, signs) = Split(s.Steps, s.Values, logY);
            if (bad.Length > 0)
            {
                marks.Add((s, bad, signs));
            }
            if (xs.Length == 0)
            {
                continue;
            }
            (xs, ys) = Downsampler.Lttb(xs, ys);
            var line = plot.Add.ScatterLine(xs, ys, palette.GetColor((firstColour + drawn) % 10 == 3 ? 9 : (firstColour + drawn) % 10));
            line.LegendText = s.Name;
            line.LineWidth = 2;
            // A single point would be an invisible line.
            line.MarkerSize = xs.Length == 1 ? 8 : 0;
            drawn++;
        }
        if (drawn == 0 && marks.Count == 0)
        {
            plot.Add.Annotation("no scalars reported yet");
        }
        plot.Axes.AutoScale();
        if (drawn == 0)
        {
            plot.Axes.SetLimitsY(0, 1);
        }
        plot.Axes.SetLimitsX(steps.Min, steps.Max);
        if (marks.Count > 0)
        {
            // NaN and +inf at the top edge, -inf (and, on a log scale, zero and negatives) at the bottom: where and how many.
            var limits = plot.Axes.GetLimits();
            var span = limits.Top - limits.Bottom;
            double topY = limits.Top + span * 0.04, bottomY = limits.Bottom - span * 0.04;
            plot.Axes.SetLimitsY(bottomY - span * 0.02, topY + span * 0.02);
            foreach (var (s, bad, signs) in marks)
            {
                var ys = signs.Select(sign => sign > 0 ? topY : bottomY).ToArray();
                var mark = plot.Add.ScatterPoints(bad, ys, new Color(NonFiniteColour.Red, NonFiniteColour.Green, NonFiniteColour.Blue));
                mark.MarkerShape = MarkerShape.Eks;
                mark.MarkerSize = 9;
                mark.MarkerLineWidth = 2;
                mark.LegendText = $"{s.Name}: {bad.Length} {(logY ? "NaN, inf or ≤ 0" : "NaN or inf")}";
            }
        }
        plot.ShowLegend(drawn + marks.Count <= 8 ? Alignment.UpperRight : Alignment.UpperLeft);
        return plot;
    }

    /// <summary>The steps every panel shows: all of the series', so that the panels line up.</summary>
    private static (double Min, double Max) StepRange(IReadOnlyList<ChartSeries> series)
    {
        double min = double.MaxValue, max = double.MinValue;
        foreach (var s in series)
        {
            if (s.Steps.Length > 0)
            {
                min = Math.Min(min, s.Steps.Min());
                max = Math.Max(max, s.Steps.Max());
            }
        }
        if (min > max)
        {
            return (0, 1);
        }
        return max - min < 1 ? (min - 0.5, max + 0.5) : (min, max);
    }

    /// <summary>The points a line can draw, and the steps of those it cannot (with +1 for the top edge, -1 for the bottom).</summary>
    private static (double[] X, double[] Y, double[] BadSteps, double[] BadSigns) Split(double[] x, double[] y, bool logY)
    {
        if (y.All(v => double.IsFinite(v) && (!logY || v > 0)) && !logY)
        {
            return (x, y, [], []);
        }
        var goodX = new List<double>(y.Length);
        var goodY = new List<double>(y.Length);
        var badX = new List<double>();
        var badSign = new List<double>();
        for (var i = 0; i < y.Length; i++)
        {
            var v = y[i];
            if (double.IsFinite(v) && (!logY || v > 0))
            {
                goodX.Add(x[i]);
                goodY.Add(logY ? Math.Log10(v) : v);
            }
            else
            {
                badX.Add(x[i]);
                badSign.Add(double.IsNaN(v) || double.IsPositiveInfinity(v) ? 1 : -1);
            }
        }
        return ([.. goodX], [.. goodY], [.. badX], [.. badSign]);
    }

    /// <summary>A tick label: short, in plain digits when it fits (0.001, 250, 12000), else scientific (1e-05, 3.2e+07).</summary>
    private static string Label(double value)
    {
        var magnitude = Math.Abs(value);
        if (magnitude < 1e-12)
        {
            return "0";
        }
        return magnitude is >= 1e-3 and < 1e6
            ? value.ToString("0.####", System.Globalization.CultureInfo.InvariantCulture)
            : value.ToString("0.##e+00", System.Globalization.CultureInfo.InvariantCulture);
    }
}
