using ScottPlot;

namespace Meeshkan.Agent.Charts;

/// <summary>Draws line charts as PNG with ScottPlot: one line per scalar over steps, a legend, labelled axes.</summary>
public static class ChartDrawer
{
    public const int DefaultWidth = 1000;
    public const int DefaultHeight = 600;
    private const int MaxSide = 4000;
    private const int MinSide = 200;

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

    /// <summary>Draws the series (downsampled to about 2000 points each; NaN and infinities left out).</summary>
    public static byte[] DrawPng(string title, IReadOnlyList<ChartSeries> series, int width = 0, int height = 0)
    {
        width = width <= 0 ? DefaultWidth : Math.Clamp(width, MinSide, MaxSide);
        height = height <= 0 ? DefaultHeight : Math.Clamp(height, MinSide, MaxSide);

        var plot = new Plot();
        plot.Font.Set(FontName);
        plot.Title(title);
        plot.XLabel("step");
        plot.YLabel("value");
        var palette = new ScottPlot.Palettes.Category10();
        var drawn = 0;
        foreach (var s in series)
        {
            var (xs, ys) = Finite(s.Steps, s.Values);
            if (xs.Length == 0)
            {
                continue;
            }
            (xs, ys) = Downsampler.Lttb(xs, ys);
            var line = plot.Add.ScatterLine(xs, ys, palette.GetColor(drawn));
            line.LegendText = s.Name;
            line.LineWidth = 2;
            // A single point would be an invisible line.
            line.MarkerSize = xs.Length == 1 ? 8 : 0;
            drawn++;
        }
        if (drawn == 0)
        {
            plot.Add.Annotation("no scalars reported yet");
        }
        else if (drawn <= 8)
        {
            plot.ShowLegend(Alignment.UpperRight);
        }
        else
        {
            plot.ShowLegend(Edge.Right);
        }
        plot.Axes.AutoScale();
        return plot.GetImageBytes(width, height, ImageFormat.Png);
    }

    private static (double[] X, double[] Y) Finite(double[] x, double[] y)
    {
        var keep = 0;
        for (var i = 0; i < y.Length; i++)
        {
            if (double.IsFinite(y[i]))
            {
                keep++;
            }
        }
        if (keep == y.Length)
        {
            return (x, y);
        }
        var outX = new double[keep];
        var outY = new double[keep];
        for (int i = 0, j = 0; i < y.Length; i++)
        {
            if (double.IsFinite(y[i]))
            {
                outX[j] = x[i];
                outY[j++] = y[i];
            }
        }
        return (outX, outY);
    }
}
