using System.Diagnostics;
using System.Globalization;
using Meeshkan.V1;

namespace Meeshkan.Bench;

/// <summary>
/// Jobs that wait for each other and time out (issue 16), side by side in one run: how soon a job starts after the job
/// it waits for ends (`submit --after`, next to the naive `meeshkan wait A && meeshkan submit B` a shell script would
/// do, and to `tsp -D`), how late a timeout fires, and 1,000 jobs chained one after another against 1,000 independent
/// ones (and task-spooler's `tsp -D` chain against its independent jobs).
/// </summary>
internal static class PipelineBench
{
    public static int Run(string meeshkan, string work, string outFile, int count, int pairs)
    {
        var lines = new List<string>
        {
            "# Benchmarks: dependencies and timeouts",
            "",
            $"Run {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC on {Environment.ProcessorCount} cores (shared), `{meeshkan}`, one slot; each system in turn, in this one run.",
            "Written by `bash bench/pipeline.sh` (bench/Meeshkan.Bench/PipelineBench.cs).",
            "",
            "| measure | Meeshkan | baseline | target |",
            "|---|---|---|---|",
        };
        using var agent = new AgentUnderTest(meeshkan, Path.Combine(work, "d"));
        agent.Start();
        var tsp = new TaskSpooler(Path.Combine(work, "tsp"));

        Step($"dependency start latency, {pairs} pairs");
        var ours = new List<double>();
        var naive = new List<double>();
        for (var i = 0; i < pairs; i++)
        {
            var first = Submit(agent, [], "sleep", "0.1");
            var second = Submit(agent, [first], "true");
            WaitEnded(agent, second);
            ours.Add(Gap(agent, first, second));

            // The naive pipeline: a shell waits for the first job, then submits the second.
            var a = Submit(agent, [], "sleep", "0.1");
            Programs.Run(meeshkan, ["wait", N(a)], agent.Env);
            var b = Submit(agent, [], "true");
            WaitEnded(agent, b);
            naive.Add(Gap(agent, a, b));
        }
        var tspGap = tsp.DependencyGaps(pairs);
        lines.Add($"| A job starts after the job it waits for ended (median of {pairs}, ms) | {Programs.Median(ours):0.0} (`submit --after`) | " +
            $"{Programs.Median(naive):0.0} (`meeshkan wait A && meeshkan submit B`); {Programs.Median(tspGap):0.0} (`tsp -D`, from the first's last act to the second's first) | 20 |");
        lines.Add($"| ... worst of {pairs} (ms) | {ours.Max():0.0} | {naive.Max():0.0}; {tspGap.Max():0.0} | |");

        Step("timeout precision, 10 jobs with --timeout 1s");
        var late = new List<double>();
        for (var i = 0; i < 10; i++)
        {
            var request = new SubmitJobRequest { WorkingDirectory = "/tmp", TimeoutSeconds = 1 };
            request.Command.AddRange(["sleep", "100"]);
            request.Environment.Add("PATH", Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin");
            var number = agent.Jobs.SubmitJob(request).Job.Number;
            WaitEnded(agent, number);
            var job = Get(agent, number);
            late.Add((job.FinishedAt.ToDateTime() - job.StartedAt.ToDateTime()).TotalMilliseconds - 1000);
        }
        lines.Add($"| A timeout ends the job after its deadline (SIGTERM, exit, end recorded; median of 10, ms late) | {Programs.Median(late):0} | | 1000 |");
        lines.Add($"| ... worst of 10 (ms late) | {late.Max():0} | | |");

        var chained = new List<double>();
        var independent = new List<double>();
        var tspChained = new List<double>();
        var tspIndependent = new List<double>();
        for (var round = 1; round <= 3; round++)
        {
            Step($"{count} jobs chained and independent, round {round}");
            agent.Cli("clear", "-y");
            independent.Add(RunQueued(agent, count, chain: false));
            chained.Add(RunQueued(agent, count, chain: true));
            tspIndependent.Add(count / (tsp.Dispatch(count) / 1000));
            tspChained.Add(count / (tsp.DispatchChained(count) / 1000));
        }
        var ratio = Programs.Median(chained) / Programs.Median(independent);
        var tspRatio = Programs.Median(tspChained) / Programs.Median(tspIndependent);
        lines.Add($"| {count} trivial jobs each `--after` the one before, run from a paused queue (jobs/s) | {Programs.Median(chained):0} | {Programs.Median(independent):0} (independent) | |");
        lines.Add($"| ... chained rate / independent rate | {ratio:0.00} | {tspRatio:0.00} (`tsp -D` chain {Programs.Median(tspChained):0} jobs/s / independent {Programs.Median(tspIndependent):0}, submit included) | 0.90 |");
        agent.Stop();
        lines.Add("");
        lines.Add("Medians of three rounds for the rates. A dependant is started by the end of the job it waits for (an event");
        lines.Add("in the run loop), never by polling; the naive pipeline pays a `meeshkan wait` return and a `meeshkan submit`.");
        File.WriteAllLines(outFile, lines);
        Console.WriteLine(string.Join('\n', lines));
        return 0;
    }

    /// <summary>Queues <paramref name="count"/> `true` jobs in a paused queue (chained: each after the one before), resumes, and returns jobs/s.</summary>
    private static double RunQueued(AgentUnderTest agent, int count, bool chain)
    {
        agent.Cli("pause");
        long previous = 0;
        for (var i = 0; i < count; i++)
        {
            previous = Submit(agent, chain && previous > 0 ? [previous] : [], "true");
        }
        var clock = Stopwatch.StartNew();
        agent.Cli("resume");
        WaitEnded(agent, previous);
        var elapsed = clock.Elapsed.TotalSeconds;
        var failed = agent.Jobs.ListJobs(new ListJobsRequest { View = JobView.Basic, States = { JobState.Failed } }).Jobs.Count;
        if (failed > 0)
        {
            throw new InvalidOperationException($"{failed} jobs failed");
        }
        return count / elapsed;
    }

    private static long Submit(AgentUnderTest agent, long[] after, params string[] command)
    {
        var request = new SubmitJobRequest { WorkingDirectory = "/tmp" };
        request.Command.AddRange(command);
        request.After.AddRange(after.Select(N));
        request.Environment.Add("PATH", Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin");
        return agent.Jobs.SubmitJob(request).Job.Number;
    }

    private static Job Get(AgentUnderTest agent, long number) => agent.Jobs.GetJob(new GetJobRequest { Identifier = N(number) });

    private static double Gap(AgentUnderTest agent, long first, long second) =>
        (Get(agent, second).StartedAt.ToDateTime() - Get(agent, first).FinishedAt.ToDateTime()).TotalMilliseconds;

    private static void WaitEnded(AgentUnderTest agent, long number)
    {
        while (Get(agent, number).State is not (JobState.Finished or JobState.Failed or JobState.Canceled))
        {
            Thread.Sleep(10);
        }
    }

    private static string N(long number) => number.ToString(CultureInfo.InvariantCulture);

    private static void Step(string what) => Console.Error.WriteLine($"[{DateTime.Now:HH:mm:ss}] {what}");
}
