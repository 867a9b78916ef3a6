using Meeshkan.Agent.Charts;
using SkiaSharp;

namespace Meeshkan.Agent.Tests.Charts;

/// <summary>
/// Issue 20, item 2: a loss, a learning rate, a throughput and a step counter in one chart are all readable. Checked on
/// the decoded PNG (where each line's pixels are) and on the axes ScottPlot drew.
/// </summary>
[TestFixture]
public sealed class ChartReadabilityTests
{
    private static readonly SKColor LossColour = new(0x1f, 0x77, 0xb4); // Category10's first: the first series

    private static IReadOnlyList<ChartSeries> TrainingRun(int steps = 300)
    {
        var x = Enumerable.Range(0, steps).Select(i => (double)i).ToArray();
        return
        [
            new ChartSeries("loss", x, x.Select(i => 2.3 * Math.Exp(-i / 60.0) + 0.05).ToArray()),
            new ChartSeries("accuracy", x, x.Select(i => 1 - Math.Exp(-i / 50.0)).ToArray()),
            new ChartSeries("lr", x, x.Select(i => 0.1 * Math.Pow(0.97, i)).ToArray()),
            new ChartSeries("throughput", x, x.Select(i => 1500 + 40 * Math.Sin(i / 7.0)).ToArray()),
            new ChartSeries("step", x, x.Select(i => i * 64.0).ToArray()),
        ];
    }

    [Test]
    public void Scalars_of_different_scales_get_separate_panels_and_alike_ones_share()
    {
        var panels = ChartPanels.Group(TrainingRun()).Select(p => p.Select(s => s.Name).ToList()).ToList();
        Assert.That(panels, Has.Count.InRange(3, ChartPanels.MaxPanels));
        Assert.That(panels[0], Is.EqualTo(new[] { "loss", "accuracy" }), "a loss and an accuracy read on one axis, first");
        Assert.That(panels.Single(p => p.Contains("lr")), Is.EqualTo(new[] { "lr" }), "the learning rate is not flattened by the others");
        Assert.That(panels.Single(p => p.Contains("throughput")), Does.Not.Contain("loss"));
        Assert.That(ChartPanels.Group(TrainingRun(), logY: true), Has.Count.EqualTo(1), "a log axis reads every scale");
    }

    [Test]
    public void The_loss_line_uses_the_height_of_its_panel_instead_of_lying_flat()
    {
        using var image = Decode(ChartDrawer.DrawPng("Job 1: digits", TrainingRun(), 1000, 600));
        Assert.That((image.Width, image.Height), Is.EqualTo((1000, 600)));
        var (top, bottom, count) = Extent(image, LossColour);
        Assert.That(count, Is.GreaterThan(200), "the loss line is drawn");
        // Its panel is a third of the image, less title, legend and labels: a flat line would span a few pixels.
        Assert.That(bottom - top, Is.GreaterThan(50), $"the loss spans rows {top}..{bottom}");
    }

    [Test]
    public void NaN_and_infinite_points_are_marked_where_they_happened()
    {
        var x = Enumerable.Range(0, 20).Select(i => (double)i).ToArray();
        var y = x.Select(i => 1.0 / (i + 1)).ToArray();
        y[5] = double.NaN;
        y[12] = double.PositiveInfinity;
        using var marked = Decode(ChartDrawer.DrawPng("gaps", [new ChartSeries("loss", x, y)], 800, 400));
        using var clean = Decode(ChartDrawer.DrawPng("no gaps", [new ChartSeries("loss", x, x.Select(i => 1.0 / (i + 1)).ToArray())], 800, 400));
        Assert.That(Extent(marked, ChartDrawer.NonFiniteColour).Count, Is.GreaterThan(30), "red marks for the NaN and the inf");
        Assert.That(Extent(clean, ChartDrawer.NonFiniteColour).Count, Is.LessThan(5), "no marks without them");
    }

    [Test]
    public void A_log_axis_spreads_a_decaying_learning_rate_over_the_panel()
    {
        var x = Enumerable.Range(0, 300).Select(i => (double)i).ToArray();
        ChartSeries[] lr = [new ChartSeries("lr", x, x.Select(i => 0.1 * Math.Pow(0.97, i)).ToArray())];
        using var linear = Decode(ChartDrawer.DrawPng("lr", lr, 800, 400));
        using var log = Decode(ChartDrawer.DrawPng("lr", lr, 800, 400, logY: true));
        // In the middle third of the steps the rate is 1e-3..1e-4: on a linear axis it lies on the bottom.
        var linearMiddle = MeanRow(linear, LossColour, 800 * 45 / 100, 800 * 55 / 100);
        var logMiddle = MeanRow(log, LossColour, 800 * 45 / 100, 800 * 55 / 100);
        Assert.That(linearMiddle, Is.GreaterThan(400 * 0.7), "linear: near the bottom edge");
        Assert.That(logMiddle, Is.InRange(400 * 0.3, 400 * 0.7), "log: about half way");
    }

    [Test]
    public void Steps_are_whole_numbers_and_ticks_are_few()
    {
        var x = new double[] { 0, 1, 2, 3 };
        var plot = ChartDrawer.Panel("short run", [new ChartSeries("loss", x, [0.9, 0.5, 0.4, 0.35])], logY: false);
        plot.GetImageBytes(1000, 600, ScottPlot.ImageFormat.Png);
        var steps = plot.Axes.Bottom.TickGenerator.Ticks.Where(t => t.IsMajor).Select(t => t.Position).ToList();
        var values = plot.Axes.Left.TickGenerator.Ticks.Where(t => t.IsMajor && t.Position >= 0.35 && t.Position <= 0.9).ToList();
        Assert.That(steps, Is.Not.Empty);
        Assert.That(steps, Is.All.EqualTo(0).Or.Matches<double>(s => s == Math.Round(s)), "no tick at a tenth of a step");
        Assert.That(values, Has.Count.InRange(3, 10), "a readable number of value labels");
    }

    private static SKBitmap Decode(byte[] png) => SKBitmap.Decode(png) ?? throw new AssertionException("the PNG does not decode");

    private static bool Near(SKColor a, SKColor b) => Math.Abs(a.Red - b.Red) + Math.Abs(a.Green - b.Green) + Math.Abs(a.Blue - b.Blue) < 60;

    /// <summary>Topmost and lowest row with pixels of this colour, and how many there are.</summary>
    private static (int Top, int Bottom, int Count) Extent(SKBitmap image, SKColor colour)
    {
        int top = int.MaxValue, bottom = -1, count = 0;
        for (var y = 0; y < image.Height; y++)
        {
            for (var x = image.Width / 10; x < image.Width * 8 / 10; x++)
            {
                if (Near(image.GetPixel(x, y), colour))
                {
                    top = Math.Min(top, y);
                    bottom = Math.Max(bottom, y);
                    count++;
                }
            }
        }
        return (top, bottom, count);
    }

    private static double MeanRow(SKBitmap image, SKColor colour, int fromX, int toX)
    {
        var rows = new List<int>();
        for (var x = fromX; x < toX; x++)
        {
            for (var y = 0; y < image.Height; y++)
            {
                if (Near(image.GetPixel(x, y), colour))
                {
                    rows.Add(y);
                }
            }
        }
        Assert.That(rows, Is.Not.Empty, "the line crosses the middle");
        return rows.Average();
    }
}
