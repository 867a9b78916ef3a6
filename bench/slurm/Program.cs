// Meeshkan on Slurm next to raw sbatch (issue 19, "Speed"), both on one single-node Slurm started here, interleaved
// round by round so that the machine's load hits both. Usage: Meeshkan.SlurmBench --meeshkan PATH --work DIR [--quick]
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Meeshkan.Slurm.Tests.Cluster;
using Meeshkan.Testing;
using Meeshkan;
using Meeshkan.V1;

var meeshkan = Arg("--meeshkan");
var work = Arg("--work");
var quick = args.Contains("--quick");
var jobCount = 50;
var rounds = quick ? 1 : 3;
var changes = quick ? 3 : 10;
var knownCount = quick ? 100 : 500;

Step("starting a single-node Slurm");
using var cluster = SlurmCluster.Start();
var calls = Path.Combine(work, "calls.log");
var wrappers = CountingWrappers(Path.Combine(work, "bin"), calls);

// The agent measured runs Slurm's own commands; only the one that counts calls (section 3) has the counting wrappers,
// which cost an `sh` per call.
using var agent = NewAgent(listen: true, counted: false);
var rows = new List<string[]>();

// 1. 50 jobs: raw sbatch against meeshkan submit --on slurm, three rounds each in turn.
var rawSubmit = new List<double>();
var rawFinish = new List<double>();
var cliSubmit = new List<double>();
var handedOver = new List<double>();
var meeshkanFinish = new List<double>();
var apiSubmit = new List<double>();
var apiHandedOver = new List<double>();
var apiFinish = new List<double>();
for (var round = 1; round <= rounds; round++)
{
    Step($"round {round}: {jobCount} x raw `sbatch --wrap true`, then {jobCount} x `meeshkan submit --on slurm true`");
    var (submitted, finished) = RawSbatch(round);
    rawSubmit.Add(submitted);
    rawFinish.Add(finished);
    var (cli, handed, ended) = ThroughMeeshkan();
    cliSubmit.Add(cli);
    handedOver.Add(handed);
    meeshkanFinish.Add(ended);
    var (call, callHanded, callEnded) = InOneCall();
    apiSubmit.Add(call);
    apiHandedOver.Add(callHanded);
    apiFinish.Add(callEnded);
}
rows.Add([$"{jobCount} jobs (`true`): all submitted", Ms(Median(rawSubmit)) + " (sbatch returned)",
    $"{Ms(Median(cliSubmit))} (submit returned); {Ms(Median(handedOver))} (all in Slurm's queue)",
    $"{Median(handedOver) / Median(rawSubmit):0.00}x"]);
rows.Add([$"{jobCount} jobs (`true`) in one `meeshkan submit --on slurm --from FILE`", Ms(Median(rawSubmit)) + " (sbatch returned)",
    $"{Ms(Median(apiSubmit))} (submit returned); {Ms(Median(apiHandedOver))} (all in Slurm's queue)",
    $"{Median(apiHandedOver) / Median(rawSubmit):0.00}x"]);
rows.Add([$"{jobCount} jobs: all ended (from the first submit)", Ms(Median(rawFinish)) + " (squeue shows none left)",
    Ms(Median(meeshkanFinish)) + " (`meeshkan list` shows all ended)", $"{(Median(meeshkanFinish) - Median(rawFinish)) / 1000:+0.00;-0.00} s"]);
rows.Add([$"{jobCount} jobs in one call: all ended (from the call)", Ms(Median(rawFinish)) + " (squeue shows none left)",
    Ms(Median(apiFinish)) + " (`meeshkan list` shows all ended)", $"{(Median(apiFinish) - Median(rawFinish)) / 1000:+0.00;-0.00} s"]);

// 2. A state change in Slurm (the job ends) against the moment `meeshkan list` shows it.
Step($"{changes} state changes: a running Slurm job ends; when squeue says COMPLETED, when `meeshkan list` says FINISHED");
var slurmSaw = new List<double>();
var listSaw = new List<double>();
for (var i = 0; i < changes; i++)
{
    var (slurm, list) = StateChange(i);
    slurmSaw.Add(slurm);
    listSaw.Add(list);
}
var lag = listSaw.Zip(slurmSaw, (l, s) => l - s).ToList();
rows.Add(["a job ends in Slurm: shown (median / max)", $"{Ms(Median(slurmSaw))} / {Ms(slurmSaw.Max())} (squeue polled every 20 ms)",
    $"{Ms(Median(listSaw))} / {Ms(listSaw.Max())} (`meeshkan list` polled every 20 ms)",
    $"+{Ms(Median(lag))} / +{Ms(lag.Max())}"]);

// 3. 500 Slurm jobs known (held in Slurm's queue): what one poll costs, counted by wrappers around Slurm's commands.
Step($"{knownCount} Slurm jobs known (sbatch --hold): Slurm calls the agent makes in 10 s, and one poll's cost");
var (squeueCalls, otherCalls, seconds, batchedMs, perJobMs) = Known();
rows.Add([$"{knownCount} Slurm jobs known: Slurm calls per poll", $"{knownCount} (one `squeue -j ID` per job, the naive way)",
    $"{squeueCalls / seconds:0.0} `squeue` calls a second, {otherCalls} other calls in {seconds:0} s (poll every 1 s)", "1 call, not " + knownCount]);
rows.Add([$"{knownCount} Slurm jobs known: one poll's time", $"{Ms(perJobMs)} ({knownCount} x `squeue -j ID`)",
    $"{Ms(batchedMs)} (one `squeue -j ID,ID,...`, median of 5)", $"{perJobMs / batchedMs:0}x less"]);

Console.WriteLine();
Console.WriteLine($"Measured {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, Slurm {cluster.Client("sinfo", "-V").Stdout.Trim()}, " +
    $"`meeshkan` {meeshkan}; medians of {rounds} round(s) for the {jobCount} jobs.");
Console.WriteLine();
Console.WriteLine("| what | raw Slurm | Meeshkan | Meeshkan against raw |");
Console.WriteLine("|---|---:|---:|---:|");
foreach (var row in rows)
{
    Console.WriteLine("| " + string.Join(" | ", row) + " |");
}
return 0;

(double Submitted, double Finished) RawSbatch(int round)
{
    var folder = Path.Combine(work, $"raw{round}");
    Directory.CreateDirectory(folder);
    var clock = Stopwatch.StartNew();
    var ids = new List<string>();
    for (var i = 0; i < jobCount; i++)
    {
        var result = cluster.Client("sbatch", "--parsable", $"--output={folder}/%j.out", "--wrap", "true");
        ids.Add(result.ExitCode == 0 ? result.Stdout.Trim() : throw new InvalidOperationException("sbatch: " + result));
    }
    var submitted = clock.Elapsed.TotalMilliseconds;
    Until(() => cluster.Client("squeue", "-h", "-t", "PD,R,CF,CG", "-j", string.Join(',', ids), "-o", "%i").Stdout.Trim().Length == 0, 100);
    return (submitted, clock.Elapsed.TotalMilliseconds);
}

(double Cli, double Handed, double Ended) ThroughMeeshkan()
{
    // As a user types it, like `sbatch --wrap true`: `meeshkan submit --on slurm true`, one process per job.
    var clock = Stopwatch.StartNew();
    var numbers = new HashSet<long>();
    for (var i = 0; i < jobCount; i++)
    {
        numbers.Add(agent.Submit("--on", "slurm", "true"));
    }
    return HandedAndEnded(clock, numbers);
}

(double Call, double Handed, double Ended) InOneCall()
{
    // As a user queues many: one `meeshkan submit --on slurm --from FILE` (one SubmitJobs call, each job with the
    // submitter's environment); the agent hands them to sbatch eight at once.
    var list = Path.Combine(work, "jobs.txt");
    File.WriteAllLines(list, Enumerable.Repeat("true", jobCount));
    var clock = Stopwatch.StartNew();
    var output = agent.Ok("submit", "--on", "slurm", "--from", list);
    // One "Job 12 submitted: true (uuid)" line per job.
    var numbers = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith("Job ", StringComparison.Ordinal))
        .Select(l => long.Parse(l.Split(' ')[1], CultureInfo.InvariantCulture)).ToHashSet();
    return HandedAndEnded(clock, numbers);
}

// From the first submit: when the last returned, when the last was in Slurm's queue (the agent's recorded hand-over:
// the moment its sbatch returned, as "sbatch returned" for raw Slurm), when `meeshkan list` showed all ended.
(double Returned, double Handed, double Ended) HandedAndEnded(Stopwatch clock, HashSet<long> numbers)
{
    var returned = clock.Elapsed.TotalMilliseconds;
    var began = DateTime.UtcNow - clock.Elapsed;
    List<ListedJob> ours = [];
    Until(() => (ours = agent.Jobs().Where(j => numbers.Contains(j.Number)).ToList()).Count(Ended) == jobCount, 100);
    var ended = clock.Elapsed.TotalMilliseconds;
    // Every one of them ran in Slurm: Slurm knows each by its name (it keeps ended jobs for MinJobAge, 300 s).
    var inSlurm = cluster.Client("squeue", "-h", "-t", "all", "-o", "%j").Stdout.Split('\n')
        .Select(n => n.Split('-')).Count(p => p.Length > 1 && long.TryParse(p[1], CultureInfo.InvariantCulture, out var n) && numbers.Contains(n));
    if (inSlurm != jobCount)
    {
        throw new InvalidOperationException($"bench: {jobCount - inSlurm} of the jobs were not Slurm's");
    }
    var handed = ours.Max(j => j.StartedAt!.Value.ToUniversalTime()) - began;
    return (returned, Math.Max(returned, handed.TotalMilliseconds), ended);
}

(double Slurm, double List) StateChange(int i)
{
    var gate = Path.Combine(work, $"gate{i}");
    var name = $"change{i}";
    var number = agent.Submit("--on", "slurm", "--name", name, "/bin/sh", "-c", $"while [ ! -e '{gate}' ]; do sleep 0.02; done");
    string? slurmId = null;
    Until(() => (slurmId = SlurmIdWhenRunning(agent.Job(number)!)) is not null, 50);
    var clock = Stopwatch.StartNew();
    File.WriteAllText(gate, "");
    var slurm = Task.Run(() =>
    {
        Until(() => cluster.Client("squeue", "-h", "-t", "all", "-j", slurmId!, "-o", "%T").Stdout.Trim() == "COMPLETED", 20);
        return clock.Elapsed.TotalMilliseconds;
    });
    var list = Task.Run(() =>
    {
        Until(() => agent.Ok("list").Split('\n').Any(l => l.Contains($" {name} ", StringComparison.Ordinal) && l.Contains("FINISHED", StringComparison.Ordinal)), 20);
        return clock.Elapsed.TotalMilliseconds;
    });
    return (slurm.Result, list.Result);
}

(int Squeue, int Other, double Seconds, double Batched, double PerJob) Known()
{
    using var held = NewAgent(listen: false, counted: true, "--slurm-args", "--hold");
    for (var i = 0; i < knownCount; i++)
    {
        held.Submit("--on", "slurm", "true");
    }
    // Every job handed over and seen by a poll: `list` shows Slurm's word for each.
    Until(() => held.Jobs().Count(j => j.ExecutorState.Contains("PENDING", StringComparison.Ordinal)) == knownCount, 500);
    var ids = cluster.Client("squeue", "-h", "-t", "PD", "-o", "%i").Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    File.WriteAllText(calls, "");
    var window = Stopwatch.StartNew();
    Thread.Sleep(TimeSpan.FromSeconds(10));
    var seconds = window.Elapsed.TotalSeconds;
    var logged = File.ReadAllLines(calls);
    var squeue = logged.Count(l => l == "squeue");
    var batched = new List<double>();
    for (var i = 0; i < 5; i++)
    {
        var one = Stopwatch.StartNew();
        cluster.Client("squeue", "-h", "-t", "all", "-j", string.Join(',', ids), "-O", "JobID:|,State:|,Reason:|,NodeList:|,exit_code:|,EndTime:|");
        batched.Add(one.Elapsed.TotalMilliseconds);
    }
    var perJob = Stopwatch.StartNew();
    foreach (var id in ids)
    {
        cluster.Client("squeue", "-h", "-t", "all", "-j", id, "-O", "JobID:|,State:|,Reason:|,NodeList:|,exit_code:|,EndTime:|");
    }
    var perJobMs = perJob.Elapsed.TotalMilliseconds;
    cluster.CancelAll();
    return (squeue, logged.Length - squeue, seconds, Median(batched), perJobMs);
}

MeeshkanSandbox NewAgent(bool listen, bool counted, params string[] setup)
{
    var sandbox = new MeeshkanSandbox(meeshkan);
    foreach (var (key, value) in cluster.Environment)
    {
        sandbox.Environment[key] = value;
    }
    if (counted)
    {
        sandbox.Environment["PATH"] = wrappers + ":" + Environment.GetEnvironmentVariable("PATH");
    }
    sandbox.Ok(["setup", "--slurm", .. setup]);
    if (listen)
    {
        sandbox.Ok("start", "--listen", $"127.0.0.1:{FreePort()}");
    }
    else
    {
        sandbox.Ok("start");
    }
    return sandbox;
}

// Slurm's commands on the agent's PATH that write their name to the log, then run the real one.
static string CountingWrappers(string folder, string log)
{
    Directory.CreateDirectory(folder);
    foreach (var program in new[] { "squeue", "sacct", "scontrol", "sbatch", "scancel" })
    {
        var real = new[] { "/usr/bin", "/usr/sbin", "/bin" }.Select(d => Path.Combine(d, program)).First(File.Exists);
        var path = Path.Combine(folder, program);
        File.WriteAllText(path, $"#!/bin/sh\necho {program} >>'{log}'\nexec {real} \"$@\"\n");
        File.SetUnixFileMode(path, (UnixFileMode)0b111_101_101);
    }
    return folder;
}

static void Until(Func<bool> done, int everyMs)
{
    var clock = Stopwatch.StartNew();
    while (!done())
    {
        if (clock.Elapsed > TimeSpan.FromMinutes(5))
        {
            throw new TimeoutException("bench: waited 5 minutes");
        }
        Thread.Sleep(everyMs);
    }
}

static double Median(List<double> values)
{
    var sorted = values.Order().ToList();
    return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
}

static string Ms(double ms) => ms >= 10_000 ? $"{ms / 1000:0.0} s" : ms >= 1000 ? $"{ms / 1000:0.00} s" : $"{ms:0} ms";

static int FreePort()
{
    using var listener = new TcpListener(IPAddress.Loopback, 0);
    listener.Start();
    return ((IPEndPoint)listener.LocalEndpoint).Port;
}

static void Step(string what) => Console.Error.WriteLine($"[{DateTime.Now:HH:mm:ss}] {what}");

string Arg(string name) => Array.IndexOf(args, name) is var at and >= 0 && at + 1 < args.Length
    ? args[at + 1] : throw new ArgumentException($"usage: Meeshkan.SlurmBench --meeshkan PATH --work DIR [--quick] ({name} missing)");

static bool Ended(ListedJob job) => job.State is "FINISHED" or "FAILED" or "CANCELED";

/// <summary>Slurm's job id once `list` shows the job running ("Slurm 12 RUNNING on node7").</summary>
static string? SlurmIdWhenRunning(ListedJob job) => job.ExecutorState.Split(' ') is ["Slurm", var id, "RUNNING", ..] ? id : null;
