// Meeshkan against task-spooler: dispatch, queue latency, CLI start-up, agent footprint (issue 6).
// Usage: Meeshkan.Bench --meeshkan PATH --hello PATH --work DIR --out docs/benchmarks.md [--quick]
//        [--baseline EARLIER_MEESHKAN [--baseline-name TEXT]]: only this build next to an earlier one (BaselineBench).
// Every comparison runs both systems in this one process, interleaved, so that the machine's load hits both.
using Meeshkan.Bench;
using static Meeshkan.Bench.Programs;

if (args.Contains("--parallel"))
{
    // bench/parallel.sh: several jobs at once (issue 15), docs/benchmarks-parallel.md.
    var at = Array.IndexOf(args, "--meeshkan");
    return ParallelBench.Run(Path.GetFullPath(args[at + 1]), Path.GetFullPath(args[Array.IndexOf(args, "--work") + 1]),
        Path.GetFullPath(args[Array.IndexOf(args, "--out") + 1]), args.Contains("--quick") ? 100 : 500, args.Contains("--queue-only"));
}
if (args.Contains("--pipeline"))
{
    // bench/pipeline.sh: dependencies and timeouts (issue 16), docs/benchmarks-pipeline.md.
    var at = Array.IndexOf(args, "--meeshkan");
    var quick = args.Contains("--quick");
    return PipelineBench.Run(Path.GetFullPath(args[at + 1]), Path.GetFullPath(args[Array.IndexOf(args, "--work") + 1]),
        Path.GetFullPath(args[Array.IndexOf(args, "--out") + 1]), quick ? 200 : 1000, quick ? 10 : 50);
}
var options = Options.Parse(args);
if (Array.IndexOf(args, "--baseline") is var b and >= 0)
{
    // This build next to an earlier commit's, in one run (issue 13): a section of --out.
    var named = Array.IndexOf(args, "--baseline-name");
    return BaselineBench.Run(args, options, args[b + 1], named >= 0 ? args[named + 1] : "earlier build");
}
var report = new Report(options);
var tsp = new TaskSpooler(Path.Combine(options.Work, "tsp"));
var hello = options.Hello;
var rounds = options.Quick ? 5 : 20;
var dispatchCount = options.Quick ? 100 : 500;
var bigCount = options.Quick ? 2_000 : 10_000;

Step("agent start-up");
var starts = new List<double>();
for (var i = 0; i < (options.Quick ? 2 : 5); i++)
{
    using var fresh = new AgentUnderTest(options.Meeshkan, Path.Combine(options.Work, "s"));
    starts.Add(fresh.Start());
    fresh.Stop();
}

using var agent = new AgentUnderTest(options.Meeshkan, Path.Combine(options.Work, "d"));
agent.Start();

// Three rounds, each system in turn: the machine's load moves by tens of percent within a minute, and each figure
// below is the median of its rounds.
var tspDispatch = new List<double>();
var cliDispatchMs = new List<double>();
var batchRuns = new List<double>();
for (var round = 1; round <= 3; round++)
{
    Step($"dispatch, round {round}: {dispatchCount} x `tsp true`, {dispatchCount} x `meeshkan submit true` (one process each), {dispatchCount} jobs in one SubmitJobs call");
    tspDispatch.Add(tsp.Dispatch(dispatchCount));
    cliDispatchMs.Add(MeasureCliDispatch(agent, dispatchCount));
    var batch = System.Diagnostics.Stopwatch.StartNew();
    agent.WaitEnded(agent.SubmitBatch(dispatchCount));
    batchRuns.Add(batch.Elapsed.TotalMilliseconds);
}
var cliDispatch = Median(cliDispatchMs);
var batchMs = Median(batchRuns);

// The dispatch rounds left 6 x dispatchCount jobs: start again from 2 x dispatchCount (1,000 in a full run).
agent.Cli("clear");
agent.WaitEnded(agent.SubmitBatch(2 * dispatchCount));
Step($"CLI start-up with {2 * dispatchCount} jobs in the database, {rounds} rounds");
var helloMs = new List<double>();
var helloNativeMs = new List<double>();
var tspListMs = new List<double>();
var listMs = new List<double>();
var submitMs = new List<double>();
for (var i = 0; i < rounds; i++)
{
    helloMs.Add(Time(hello, []));
    if (options.HelloNative is { } native)
    {
        helloNativeMs.Add(Time(native, []));
    }
    tspListMs.Add(tsp.List());
    listMs.Add(agent.Cli("list"));
    submitMs.Add(agent.Cli("submit", "true"));
}

Step("queue latency: idle agent, `meeshkan submit true`, CLI return to RUNNING");
var latency = new List<double>();
for (var i = 0; i < rounds; i++)
{
    Thread.Sleep(50); // idle: the previous job has ended
    var (number, returnedAt) = agent.SubmitTrue();
    latency.Add(agent.StartedAt(number) - returnedAt);
    agent.WaitEnded(number);
}
agent.Stop();

Step($"memory: {bigCount} jobs through one agent, in batches of 1,000");
using var big = new AgentUnderTest(options.Meeshkan, Path.Combine(options.Work, "m"));
big.Start();
var rss = new List<(int Jobs, double Mb)> { (0, RssMb(big.Pid)) };
var bigClock = System.Diagnostics.Stopwatch.StartNew();
for (var done = 0; done < bigCount; done += 1000)
{
    big.WaitEnded(big.SubmitBatch(1000));
    rss.Add((done + 1000, RssMb(big.Pid)));
    Console.Error.Write($" {done + 1000}:{rss[^1].Mb:0}MB");
}
Console.Error.WriteLine();
var bigRate = bigCount / bigClock.Elapsed.TotalSeconds;
Thread.Sleep(2000);
var idleAfterRun = RssMb(big.Pid);
var bigList = new List<double>();
for (var i = 0; i < (options.Quick ? 3 : 10); i++)
{
    bigList.Add(big.Cli("list"));
}
var afterList = RssMb(big.Pid);
big.Stop();
var restart = big.Start();
Thread.Sleep(2000);
var idleAfterRestart = RssMb(big.Pid);
// The agent reads an ended job's row in full once; a freshly started one has read none yet.
var coldList = big.Cli("list");
big.Stop();

report.Machine();
var tspMs = Median(tspDispatch);
var tspRate = dispatchCount / (tspMs / 1000);
report.Add($"Dispatch, {dispatchCount} jobs, one CLI call each (wall, all ended)", cliDispatch, tspMs, "ms", "tsp", "<= 3x tsp", cliDispatch <= 3 * tspMs);
report.Add($"Dispatch, {dispatchCount} jobs in one SubmitJobs call (jobs/s)", dispatchCount / (batchMs / 1000), tspRate, "jobs/s", "tsp, one call each", ">= tsp", dispatchCount / (batchMs / 1000) >= tspRate, higherIsBetter: true);
report.Add($"Dispatch, {bigCount} jobs in batches of 1,000 (jobs/s)", bigRate, tspRate, "jobs/s", "tsp, one call each", "(context)", null, higherIsBetter: true);
report.Add("Queue latency: CLI return to RUNNING, idle agent (median)", Median(latency), null, "ms", "", "<= 20 ms", Median(latency) <= 20);
report.Add("Queue latency (worst of " + rounds + ")", latency.Max(), null, "ms", "", "(context)", null);
report.Add($"`meeshkan list`, {2 * dispatchCount} jobs (median)", Median(listMs), Median(helloMs), "ms", "hello world", "<= 100 ms", Median(listMs) <= 100);
report.Add("`meeshkan submit true` (median)", Median(submitMs), Median(helloMs), "ms", "hello world", "<= 100 ms", Median(submitMs) <= 100);
report.Add("`meeshkan list` vs `tsp -l` (median)", Median(listMs), Median(tspListMs), "ms", "tsp -l", "(context)", null);
report.Add("Hello-world .NET program (median)", Median(helloMs), Median(tspListMs), "ms", "tsp -l", "(floor)", null);
if (helloNativeMs.Count > 0)
{
    report.Add("Hello-world .NET program, Native AOT like `meeshkan` (median)", Median(helloNativeMs), Median(tspListMs), "ms", "tsp -l", "(floor)", null);
    report.Add("`meeshkan list` vs a native hello world (median)", Median(listMs), Median(helloNativeMs), "ms", "native hello world", "(context)", null);
}
report.Add($"`meeshkan list`, {bigCount} jobs (median)", Median(bigList), Median(helloMs), "ms", "hello world", "<= 150 ms", Median(bigList) <= 150);
report.Add($"`meeshkan list`, {bigCount} jobs, first after an agent restart", coldList, Median(helloMs), "ms", "hello world", "(context)", null);
report.Add("Agent ready after `meeshkan start`, empty database (median)", Median(starts), Median(helloMs), "ms", "hello world", "<= 500 ms", Median(starts) <= 500);
report.Add($"Agent ready after `meeshkan start`, {bigCount} jobs", restart, Median(helloMs), "ms", "hello world", "<= 500 ms", restart <= 500);
report.Add($"Agent RSS idle, {bigCount} jobs in the database (after restart)", idleAfterRestart, null, "MB", "", "<= 80 MB", idleAfterRestart <= 80);
report.Add($"Agent RSS idle after dispatching {bigCount} jobs", idleAfterRun, null, "MB", "", "<= 80 MB", idleAfterRun <= 80);
report.Add($"Agent RSS after {bigList.Count} `list` of {bigCount} jobs", afterList, null, "MB", "", "(context)", null);
var warm = rss.Skip(1).Take(2).Max(r => r.Mb);
var flat = rss[^1].Mb <= warm * 1.15;
report.Add($"Agent RSS growth over {bigCount} jobs (last / after 2,000)", rss[^1].Mb, warm, "MB", "RSS after 2,000", "flat (<= 1.15x)", flat);
report.Series("Agent RSS while dispatching (jobs ended: MB)", rss.Select(r => $"{r.Jobs}: {r.Mb:0.0}"));
report.Series("Raw samples, ms (`meeshkan list`)", listMs.Select(v => v.ToString("0")));
report.Series("Raw samples, ms (`meeshkan submit true`)", submitMs.Select(v => v.ToString("0")));
report.Series("Raw samples, ms (hello world)", helloMs.Select(v => v.ToString("0")));
report.Series("Raw samples, ms (native hello world)", helloNativeMs.Select(v => v.ToString("0.0")));
report.Series("Raw samples, ms (`tsp -l`)", tspListMs.Select(v => v.ToString("0.0")));
report.Series("Raw samples, ms (queue latency)", latency.Select(v => v.ToString("0")));
report.Series("Raw samples, ms (tsp dispatch)", tspDispatch.Select(v => v.ToString("0")));
report.Series("Raw samples, ms (dispatch, one `meeshkan submit` each)", cliDispatchMs.Select(v => v.ToString("0")));
report.Series("Raw samples, ms (dispatch, one SubmitJobs call)", batchRuns.Select(v => v.ToString("0")));
report.Series("Raw samples, ms (agent start, empty database)", starts.Select(v => v.ToString("0")));
report.Write();
return 0;

static double MeasureCliDispatch(AgentUnderTest agent, int count)
{
    var clock = System.Diagnostics.Stopwatch.StartNew();
    long last = 0;
    for (var i = 0; i < count; i++)
    {
        last = agent.SubmitTrue().Number;
    }
    agent.WaitEnded(last);
    return clock.Elapsed.TotalMilliseconds;
}

static void Step(string what) => Console.Error.WriteLine($"[{DateTime.Now:HH:mm:ss}] {what}");
