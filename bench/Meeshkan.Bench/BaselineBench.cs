using System.Diagnostics;
using System.Globalization;
using System.Text;
using static Meeshkan.Bench.Programs;

namespace Meeshkan.Bench;

/// <summary>
/// This build next to an earlier one (`--baseline PATH`, an earlier commit's native `meeshkan`), in one run: both agents
/// run at once, every figure is taken from each build in turn, round after round, with task-spooler and a native hello
/// world as the floors. What issue 13 asks of a change: no figure more than 10% worse than the previous build's.
/// Writes (or replaces) the section <see cref="Heading"/> of the --out file.
/// </summary>
internal static class BaselineBench
{
    public const string Heading = "## This build next to an earlier one";

    public static int Run(string[] args, Options options, string baseline, string baselineName)
    {
        var quick = options.Quick;
        var dispatchCount = quick ? 100 : 500;
        var bigCount = quick ? 2_000 : 10_000;
        var rounds = quick ? 15 : 30;
        var loadAtStart = Load();
        var tsp = new TaskSpooler(Path.Combine(options.Work, "tsp"));
        var builds = new[] { ("this build", options.Meeshkan), (baselineName, Path.GetFullPath(baseline)) };
        var agents = builds.Select((b, i) => new AgentUnderTest(b.Item2, Path.Combine(options.Work, $"b{i}"))).ToArray();
        try
        {
            foreach (var agent in agents)
            {
                agent.Start();
            }
            var oneCall = agents.Select(_ => new List<double>()).ToArray();
            var tspDispatch = new List<double>();
            for (var round = 1; round <= 3; round++)
            {
                Step($"dispatch, round {round}: {dispatchCount} jobs in one SubmitJobs call to each build, {dispatchCount} x `tsp true`");
                tspDispatch.Add(tsp.Dispatch(dispatchCount));
                for (var i = 0; i < agents.Length; i++)
                {
                    var clock = Stopwatch.StartNew();
                    agents[i].WaitEnded(agents[i].SubmitBatch(dispatchCount));
                    oneCall[i].Add(clock.Elapsed.TotalMilliseconds);
                }
            }
            foreach (var agent in agents)
            {
                agent.Cli("clear");
            }
            Step($"{bigCount} jobs into each build, in batches of 1,000, each build in turn");
            var batched = new double[agents.Length];
            for (var done = 0; done < bigCount; done += 1000)
            {
                for (var i = 0; i < agents.Length; i++)
                {
                    var clock = Stopwatch.StartNew();
                    agents[i].WaitEnded(agents[i].SubmitBatch(1000));
                    batched[i] += clock.Elapsed.TotalMilliseconds;
                }
            }
            Thread.Sleep(2000);
            Step($"`meeshkan list` of {bigCount} jobs, {rounds} rounds: native hello world, `tsp -l`, each build");
            var first = agents.Select(a => a.Cli("list")).ToArray();
            var lists = agents.Select(_ => new List<double>()).ToArray();
            var hello = new List<double>();
            var tspList = new List<double>();
            for (var round = 0; round < rounds; round++)
            {
                if (options.HelloNative is { } native)
                {
                    hello.Add(Time(native, []));
                }
                tspList.Add(tsp.List());
                // Each build first in turn: neither always follows the same program.
                for (var k = 0; k < agents.Length; k++)
                {
                    var i = (round + k) % agents.Length;
                    lists[i].Add(agents[i].Cli("list"));
                }
            }
            var tspRate = dispatchCount / (Median(tspDispatch) / 1000);
            var text = new StringBuilder();
            text.AppendLine(Heading);
            text.AppendLine();
            text.AppendLine(CultureInfo.InvariantCulture, $"- Date: {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC; {Environment.ProcessorCount} cores; load average (1, 5, 15 min) at start: {loadAtStart}; at end: {Load()}");
            text.AppendLine(CultureInfo.InvariantCulture, $"- This build: `{options.Meeshkan}` ({options.Build}); earlier build: `{builds[1].Item2}` ({baselineName})");
            text.AppendLine(CultureInfo.InvariantCulture, $"- Command: `dotnet artifacts/bench/runner/Meeshkan.Bench.dll {string.Join(' ', args.Select(Quote))}` (both agents run at once; each figure is taken from each build in turn)");
            text.AppendLine();
            text.AppendLine("| Figure | This build | Earlier build | This / earlier | Reference |");
            text.AppendLine("|---|---:|---:|---:|---|");
            void Row(string figure, double ours, double theirs, string unit, string reference) =>
                text.AppendLine(CultureInfo.InvariantCulture, $"| {figure} | {Number(ours)} {unit} | {Number(theirs)} {unit} | {ours / theirs:0.00}x | {reference} |");
            string Against(string name, double reference, double ours, double theirs) =>
                $"{name} {Number(reference)}: this {ours / reference:0.00}x, earlier {theirs / reference:0.00}x";
            var listThis = Median(lists[0]);
            var listThen = Median(lists[1]);
            var helloMs = hello.Count > 0 ? Median(hello) : double.NaN;
            Row($"`meeshkan list`, {bigCount} jobs (median of {rounds})", listThis, listThen, "ms",
                Against("native hello world, ms", helloMs, listThis, listThen) + "; " + Against("`tsp -l`, ms", Median(tspList), listThis, listThen));
            Row($"`meeshkan list`, {bigCount} jobs, first after dispatching them", first[0], first[1], "ms", Against("native hello world, ms", helloMs, first[0], first[1]));
            var rateThis = dispatchCount / (Median(oneCall[0]) / 1000);
            var rateThen = dispatchCount / (Median(oneCall[1]) / 1000);
            Row($"Dispatch, {dispatchCount} jobs in one SubmitJobs call (jobs/s, median of 3)", rateThis, rateThen, "jobs/s",
                Against("tsp, one call each, jobs/s", tspRate, rateThis, rateThen));
            var bigThis = bigCount / (batched[0] / 1000);
            var bigThen = bigCount / (batched[1] / 1000);
            Row($"Dispatch, {bigCount} jobs in batches of 1,000 (jobs/s)", bigThis, bigThen, "jobs/s", Against("tsp, one call each, jobs/s", tspRate, bigThis, bigThen));
            text.AppendLine();
            text.AppendLine(CultureInfo.InvariantCulture, $"Samples, ms: `list` this build {string.Join(", ", lists[0].Select(v => v.ToString("0.0", CultureInfo.InvariantCulture)))}; earlier build {string.Join(", ", lists[1].Select(v => v.ToString("0.0", CultureInfo.InvariantCulture)))}; native hello world {string.Join(", ", hello.Select(v => v.ToString("0.0", CultureInfo.InvariantCulture)))}; one SubmitJobs call this build {string.Join(", ", oneCall[0].Select(v => v.ToString("0", CultureInfo.InvariantCulture)))}, earlier {string.Join(", ", oneCall[1].Select(v => v.ToString("0", CultureInfo.InvariantCulture)))}; tsp dispatch {string.Join(", ", tspDispatch.Select(v => v.ToString("0", CultureInfo.InvariantCulture)))}.");
            Write(options.Out, text.ToString());
            Console.WriteLine(text);
            return 0;
        }
        finally
        {
            foreach (var agent in agents)
            {
                agent.Dispose();
            }
        }
    }

    /// <summary>Replaces the section in the file (from its heading to the next `## ` heading), or adds it at the end.</summary>
    private static void Write(string file, string section)
    {
        var old = File.Exists(file) ? File.ReadAllText(file) : "";
        var at = old.IndexOf(Heading, StringComparison.Ordinal);
        string text;
        if (at < 0)
        {
            text = old.TrimEnd() + (old.Length > 0 ? "\n\n" : "") + section;
        }
        else
        {
            var next = old.IndexOf("\n## ", at + Heading.Length, StringComparison.Ordinal);
            text = old[..at] + section + (next < 0 ? "" : "\n" + old[(next + 1)..]);
        }
        File.WriteAllText(file, text);
        Console.Error.WriteLine($"bench: wrote the section \"{Heading}\" of {file}");
    }

    private static string Quote(string arg) => arg.Length > 0 && arg.All(c => char.IsAsciiLetterOrDigit(c) || "-_./=:,".Contains(c)) ? arg : $"\"{arg}\"";

    private static void Step(string what) => Console.Error.WriteLine($"[{DateTime.Now:HH:mm:ss}] {what}");

    private static string Number(double v) => v >= 100 ? v.ToString("0", CultureInfo.InvariantCulture) : v.ToString("0.0", CultureInfo.InvariantCulture);

    private static string Load() => string.Join(", ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
}
