using System.Diagnostics;

namespace Meeshkan.Agent.Tests.Conditions;

/// <summary>
/// Evaluation sits on the ReportScalars path: a 50,000-point batch on a watched scalar must cost milliseconds.
/// Timings are printed; the only bound asserted is a hundred times the expected cost, so it never flakes.
/// </summary>
[TestFixture]
public sealed class EvaluationSpeedTests : ConditionBedFixture
{
    private const int Points = 50_000;

    [Test]
    public void A_fifty_thousand_point_batch_on_one_watched_scalar()
    {
        Bed.AddExpression("eval_loss - train_loss > 0.2 or eval_loss != eval_loss");
        Bed.Report(("train_loss", 1.0));

        var perTenThousand = Measure(i => ("eval_loss", 1.0 + (i % 100) * 0.001, i));

        Assert.That(Bed.Events(), Is.Empty, "never met: every point was evaluated");
        Assert.That(perTenThousand, Is.LessThan(200), "ms per 10k points");
    }

    [Test]
    public void A_fifty_thousand_point_batch_interleaving_two_watched_scalars()
    {
        Bed.AddExpression("abs(eval_loss - train_loss) > 0.5");

        var perTenThousand = Measure(i => (i % 2 == 0 ? "eval_loss" : "train_loss", 1.0 + (i % 100) * 0.001, i));

        Assert.That(Bed.Events(), Is.Empty);
        Assert.That(perTenThousand, Is.LessThan(200), "ms per 10k points");
    }

    [Test]
    public void A_batch_after_the_condition_fired_is_skipped_while_in_cooldown()
    {
        Bed.AddExpression("eval_loss > 0");
        Bed.Report(("eval_loss", 1.0));

        var perTenThousand = Measure(i => ("eval_loss", 1.0, i));

        Assert.That(Bed.Events(), Has.Count.EqualTo(1));
        Assert.That(perTenThousand, Is.LessThan(200), "ms per 10k points");
    }

    /// <summary>Stores a batch (not timed), then times evaluating it; the median of five runs, in ms per 10k points.</summary>
    private double Measure(Func<int, (string Name, double Value, long WallTimeUs)> point)
    {
        var batch = Bed.Store(Bed.Job, Enumerable.Range(0, Points).Select(point).ToArray());
        Bed.Engine.Evaluate(Bed.Job, batch); // JIT and first-use loading
        var runs = new List<double>();
        for (var run = 0; run < 5; run++)
        {
            var watch = Stopwatch.StartNew();
            Bed.Engine.Evaluate(Bed.Job, batch);
            runs.Add(watch.Elapsed.TotalMilliseconds);
        }
        var median = runs.Order().ElementAt(runs.Count / 2);
        var perTenThousand = median * 10_000 / Points;
        TestContext.Out.WriteLine($"{TestContext.CurrentContext.Test.Name}: median {median:F2} ms for {Points:N0} points, " +
            $"{perTenThousand:F3} ms per 10k (runs in order: {string.Join(", ", runs.Select(r => r.ToString("F2")))})");
        return perTenThousand;
    }
}
