using System.Diagnostics;
using System.Text;
using Meeshkan.Agent.OutputScalars;

namespace Meeshkan.Agent.Tests.OutputScalars;

public sealed class OutputParserTests
{
    private static List<OutputScalar> Parse(string line, string? pattern = null)
    {
        var found = new List<OutputScalar>();
        OutputParser.Create(pattern).Parse(Encoding.UTF8.GetBytes(line), found);
        return found;
    }

    [TestCase("loss: 0.31", "loss", 0.31)]
    [TestCase("loss=0.31", "loss", 0.31)]
    [TestCase("epoch 3 acc=0.91", "acc", 0.91)]
    [TestCase("val_loss: -1.5e-3, lr: 1e-4", "val_loss", -1.5e-3)]
    [TestCase("train/loss = 2", "train/loss", 2.0)]
    public void Default_patterns_read_name_and_value(string line, string name, double value)
    {
        var first = Parse(line)[0];
        Assert.That((first.Name, first.Value, first.Step), Is.EqualTo((name, value, (long?)null)));
    }

    [Test]
    public void Several_pairs_a_step_and_special_values_are_read()
    {
        Assert.That(Parse("loss: 0.25 (step 12) acc=0.5"), Is.EqualTo(new[]
        {
            new OutputScalar("loss", 0.25, 12), new OutputScalar("acc", 0.5, null),
        }));
        var special = Parse("a: nan b=inf c: -inf d=NaN e: Infinity");
        Assert.That(special.Select(s => s.Name), Is.EqualTo(new[] { "a", "b", "c", "d", "e" }));
        Assert.That(double.IsNaN(special[0].Value) && double.IsNaN(special[3].Value));
        Assert.That(special[1].Value, Is.EqualTo(double.PositiveInfinity));
        Assert.That(special[2].Value, Is.EqualTo(double.NegativeInfinity));
        Assert.That(special[4].Value, Is.EqualTo(double.PositiveInfinity));
    }

    [TestCase("see http://example.com:8080/x")]
    [TestCase("started at 12:30:01")]
    [TestCase("ratio: 3/4")]
    [TestCase("name: resnet50")]
    [TestCase("x = y")]
    [TestCase("no metrics here at all")]
    public void Text_that_is_not_a_metric_gives_nothing(string line) => Assert.That(Parse(line), Is.Empty);

    [Test]
    public void Tqdm_progress_gives_percent_and_eta_and_its_postfix_pairs()
    {
        var found = Parse(" 45%|████▌     | 45/100 [00:04<01:05, 9.87it/s, loss=0.42]");
        Assert.That(found, Does.Contain(new OutputScalar(OutputParser.ProgressName, 45, null)));
        Assert.That(found, Does.Contain(new OutputScalar(OutputParser.EtaName, 65, null)));
        Assert.That(found, Does.Contain(new OutputScalar("loss", 0.42, null)));
        Assert.That(Parse("100%|██████████| 10/10 [1:00:00<00:00, 1.2s/it]"), Does.Contain(new OutputScalar(OutputParser.EtaName, 0, null)));
        Assert.That(Parse("  0%|          | 0/10 [00:00<?, ?it/s]").Select(s => s.Name), Is.EqualTo(new[] { OutputParser.ProgressName }));
    }

    [Test]
    public void A_pattern_of_the_users_own_reads_its_groups()
    {
        const string pattern = @"^(?<name>\w+) after (?<step>\d+) iterations is (?<value>\S+)$";
        Assert.That(Parse("error after 30 iterations is 0.125", pattern), Is.EqualTo(new[] { new OutputScalar("error", 0.125, 30) }));
        Assert.That(Parse("loss: 0.3", pattern), Is.Empty, "the default patterns are off");
        Assert.That(Parse("score 7", @"score (?<value>\d+)"), Is.EqualTo(new[] { new OutputScalar("value", 7, null) }));
        Assert.That(double.IsNaN(Parse("x is nan", @"x is (?<value>\w+)")[0].Value));
        Assert.That(Parse("x is big", @"x is (?<value>\w+)"), Is.Empty, "a value that is not a number is skipped");
    }

    [Test]
    public void A_pattern_that_does_not_compile_or_has_no_value_group_says_why()
    {
        Assert.That(() => OutputParser.Create("(?<value>[0-9"),
            Throws.TypeOf<Meeshkan.Agent.Jobs.InvalidRequestException>().With.Message.StartsWith("--scalar-pattern does not compile: "));
        Assert.That(() => OutputParser.Create(@"(?<name>\w+)=(\d+)"),
            Throws.TypeOf<Meeshkan.Agent.Jobs.InvalidRequestException>().With.Message.StartsWith("--scalar-pattern needs a named group `value`"));
        Assert.That(() => OutputParser.Option(fromOutput: false, "(?<value>[0-9"), Throws.TypeOf<Meeshkan.Agent.Jobs.InvalidRequestException>(),
            "a pattern alone asks for reading, and is checked at submit");
    }

    [Test]
    public void What_a_job_stores_of_the_submit_options()
    {
        Assert.That(OutputParser.Option(fromOutput: false, ""), Is.Null, "no option: no reading");
        Assert.That(OutputParser.Option(fromOutput: true, ""), Is.EqualTo(""), "the default patterns");
        Assert.That(OutputParser.Option(fromOutput: false, "(?<value>\\d+)"), Is.EqualTo("(?<value>\\d+)"), "a pattern implies the option");
    }

    [Test]
    public void Binary_bytes_are_not_a_problem()
    {
        var line = new byte[] { 0xff, 0x00, 0xfe, (byte)'l', (byte)'r', (byte)'=', (byte)'2', (byte)' ', 0x80, (byte)'=', (byte)'=' };
        var found = new List<OutputScalar>();
        OutputParser.Create(null).Parse(line, found);
        Assert.That(found, Is.EqualTo(new[] { new OutputScalar("lr", 2, null) }));
    }

    /// <summary>The floor of docs/benchmarks-output-scalars.md (bench/output_scalars): 100 MB of training-like output, one metric line in ten.</summary>
    [Test]
    public void Parses_100_MB_of_output_at_more_than_100_MB_a_second()
    {
        var text = new StringBuilder();
        for (var i = 0; i < 10_000; i++)
        {
            text.Append(i % 10 == 0
                ? $"epoch {i} step {i * 7}: loss: {1.0 / (i + 1):F6} (step {i}) acc={i % 100 / 100.0:F2}\n"
                : $"INFO 2026-12-03 14:00:{i % 60:00} worker {i % 8} finished shard {i} in 0.{i % 1000:000}s, queue depth {i % 13}\n");
        }
        var block = Encoding.ASCII.GetBytes(text.ToString());
        var lines = new OutputLines(OutputParser.Create(null));
        var found = new List<OutputScalar>();
        var total = 0L;
        // CPU time of this thread, not wall time: on a machine shared by many builds the wall clock measures the queue.
        var cpuBefore = ThreadCpu();
        var clock = Stopwatch.StartNew();
        while (total < 100_000_000)
        {
            // As the agent reads a job's output: 64 KiB reads, cut into lines by OutputLines.
            for (var at = 0; at < block.Length; at += 1 << 16)
            {
                lines.Feed(block.AsSpan(at, Math.Min(1 << 16, block.Length - at)), found);
            }
            total += block.Length;
            found.Clear();
        }
        var cpu = ThreadCpu() - cpuBefore;
        var mbPerSecond = total / 1e6 / cpu.TotalSeconds;
        TestContext.Out.WriteLine($"output parsing: {total / 1e6:F0} MB in {cpu.TotalSeconds:F2} s of CPU = {mbPerSecond:F0} MB/s " +
            $"({clock.Elapsed.TotalSeconds:F2} s wall)");
#if !DEBUG
        // A Debug build is several times slower; the figure that counts is the Release one (the Test target's).
        Assert.That(mbPerSecond, Is.GreaterThan(100));
#endif
    }

    /// <summary>This thread's CPU time (Linux: /proc/thread-self/stat, utime + stime in clock ticks of 10 ms).</summary>
    private static TimeSpan ThreadCpu()
    {
        var stat = File.ReadAllText("/proc/thread-self/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = long.Parse(fields[11], System.Globalization.CultureInfo.InvariantCulture) + long.Parse(fields[12], System.Globalization.CultureInfo.InvariantCulture);
        return TimeSpan.FromMilliseconds(ticks * 10);
    }
}
