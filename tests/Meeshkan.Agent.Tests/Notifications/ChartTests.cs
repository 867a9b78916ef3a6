using System.Diagnostics;
using Meeshkan.Agent.Charts;
using Meeshkan.Agent.Config;
using SkiaSharp;

namespace Meeshkan.Agent.Tests.Notifications;

/// <summary>Charts are checked as images: they decode, have the size asked for, and their plotted area is not blank.</summary>
[TestFixture]
public sealed class ChartTests
{
    [Test]
    public async Task A_jobs_chart_is_a_png_of_the_requested_size_with_its_lines_drawn()
    {
        await using var bed = new NotifierTestBed(new NotificationSettings());
        var job = bed.StartJob();
        bed.ReportCurves(job, 500);

        var png = bed.Charts.Render(job, [], 900, 500);

        using var image = Decode(png);
        Assert.That((image.Width, image.Height), Is.EqualTo((900, 500)));
        Assert.That(PlotAreaInk(image), Is.GreaterThan(0.005), "share of non-background pixels in the plotted area");
        // Each scalar has its own colour: the three lines are all there.
        Assert.That(DistinctLineColours(image), Is.GreaterThanOrEqualTo(3));
    }

    [Test]
    public async Task Only_the_named_scalars_are_drawn()
    {
        await using var bed = new NotifierTestBed(new NotificationSettings());
        var job = bed.StartJob();
        bed.ReportCurves(job, 200);

        Assert.That(bed.Charts.Load(job.Number, ["accuracy", "no_such_scalar"]).Select(s => s.Name), Is.EqualTo(new[] { "accuracy" }));
        using var image = Decode(bed.Charts.Render(job, ["accuracy"], 0, 0));
        using var all = Decode(bed.Charts.Render(job, [], 0, 0));
        Assert.That((image.Width, image.Height), Is.EqualTo((ChartDrawer.DefaultWidth, ChartDrawer.DefaultHeight)));
        Assert.That(PlotAreaInk(image), Is.GreaterThan(0.001));
        Assert.That(DistinctLineColours(image), Is.LessThan(DistinctLineColours(all)));
    }

    [Test]
    public void A_long_history_is_downsampled_but_keeps_its_whole_range_and_its_spikes()
    {
        const int n = 1_000_000;
        var x = new double[n];
        var y = new double[n];
        for (var i = 0; i < n; i++)
        {
            x[i] = i;
            y[i] = Math.Sin(i / 1000.0);
        }
        y[777_777] = 50; // one spike

        var (dx, dy) = Downsampler.Lttb(x, y);

        Assert.That(dx, Has.Length.EqualTo(Downsampler.DefaultPoints));
        Assert.That(dx[0], Is.EqualTo(0));
        Assert.That(dx[^1], Is.EqualTo(n - 1), "the end of the history is drawn, not truncated");
        Assert.That(dy.Max(), Is.EqualTo(50), "the spike survives");
        Assert.That(dx, Is.Ordered);

        var clock = Stopwatch.StartNew();
        using var image = Decode(ChartDrawer.DrawPng("a million steps", [new ChartSeries("loss", x, y)]));
        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)));
        Assert.That(PlotAreaInk(image), Is.GreaterThan(0.005));
    }

    [Test]
    public void NaN_and_infinite_values_are_left_out_and_an_empty_chart_still_draws()
    {
        using var withGaps = Decode(ChartDrawer.DrawPng("gaps", [new ChartSeries("loss", [0, 1, 2, 3], [1, double.NaN, double.PositiveInfinity, 0.5])]));
        Assert.That(PlotAreaInk(withGaps), Is.GreaterThan(0.0005));
        using var empty = Decode(ChartDrawer.DrawPng("nothing yet", []));
        Assert.That(empty.Width, Is.EqualTo(ChartDrawer.DefaultWidth));
    }

    /// <summary>The example in docs/: drawn from a training-like history, and looked at by a person.</summary>
    [Test]
    public async Task The_documentation_example_chart_is_written()
    {
        await using var bed = new NotifierTestBed(new NotificationSettings());
        var job = bed.StartJob("resnet-cifar10");
        bed.ReportCurves(job, 5000);
        var png = bed.Charts.Render(job, [], 1000, 600);
        // MEESHKAN_WRITE_DOCS=1 refreshes the picture in docs/; otherwise the run leaves the checkout as it was.
        var docs = Environment.GetEnvironmentVariable("MEESHKAN_WRITE_DOCS") == "1" ? Path.Combine(RepoRoot(), "docs") : Path.GetTempPath();
        var path = Path.Combine(docs, "chart-example.png");
        await File.WriteAllBytesAsync(path, png);
        TestContext.Out.WriteLine($"chart written to {path}");
        using var image = Decode(png);
        Assert.That(PlotAreaInk(image), Is.GreaterThan(0.005));
    }

    internal static SKBitmap Decode(byte[] png)
    {
        Assert.That(png.Take(8), Is.EqualTo(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }), "PNG signature");
        var image = SKBitmap.Decode(png);
        Assert.That(image, Is.Not.Null, "the PNG decodes");
        return image;
    }

    /// <summary>Share of pixels in the middle of the image (inside the axes) that are not the background colour.</summary>
    internal static double PlotAreaInk(SKBitmap image)
    {
        var background = image.GetPixel(image.Width / 2, 2);
        int ink = 0, total = 0;
        for (var x = image.Width * 15 / 100; x < image.Width * 85 / 100; x++)
        {
            for (var y = image.Height * 15 / 100; y < image.Height * 85 / 100; y++)
            {
                total++;
                if (Distance(image.GetPixel(x, y), background) > 60)
                {
                    ink++;
                }
            }
        }
        return (double)ink / total;
    }

    /// <summary>Saturated colours (lines, not grey grid or black text) that cover a fair number of pixels.</summary>
    private static int DistinctLineColours(SKBitmap image)
    {
        var counts = new Dictionary<(int, int, int), int>();
        for (var x = 0; x < image.Width; x++)
        {
            for (var y = 0; y < image.Height; y++)
            {
                var c = image.GetPixel(x, y);
                var max = Math.Max(c.Red, Math.Max(c.Green, c.Blue));
                var min = Math.Min(c.Red, Math.Min(c.Green, c.Blue));
                if (max - min < 80)
                {
                    continue;
                }
                var key = (c.Red / 32, c.Green / 32, c.Blue / 32);
                counts[key] = counts.GetValueOrDefault(key) + 1;
            }
        }
        var big = counts.Where(kv => kv.Value > 150).Select(kv => kv.Key).ToList();
        // Neighbouring buckets are the same colour, anti-aliased.
        var groups = new List<(int, int, int)>();
        foreach (var k in big.OrderByDescending(k => counts[k]))
        {
            if (!groups.Any(g => Math.Abs(g.Item1 - k.Item1) + Math.Abs(g.Item2 - k.Item2) + Math.Abs(g.Item3 - k.Item3) <= 2))
            {
                groups.Add(k);
            }
        }
        return groups.Count;
    }

    private static int Distance(SKColor a, SKColor b) => Math.Abs(a.Red - b.Red) + Math.Abs(a.Green - b.Green) + Math.Abs(a.Blue - b.Blue);

    internal static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Directory.Packages.props")))
        {
            dir = dir.Parent;
        }
        return dir?.FullName ?? throw new InvalidOperationException("repository root not found");
    }
}
