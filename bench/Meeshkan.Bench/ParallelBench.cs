using System.Diagnostics;
using Meeshkan.V1;
using static Meeshkan.Bench.Programs;

namespace Meeshkan.Bench;

/// <summary>
/// Several jobs at once (issue 15), side by side with task-spooler in one run, medians of three rounds: 500 trivial
/// jobs with 2 and 4 slots against `tsp -S 2` / `tsp -S 4`; how soon a job waiting for GPUs starts after the holder's
/// exit; agent memory with 10,000 jobs waiting. Needs a fake or real nvidia-smi on PATH for the GPU figures.
/// </summary>
internal static class ParallelBench
{
    public static int Run(string meeshkan, string work, string outFile, int count, bool queueOnly = false)
    {
        var lines = new List<string>
        {
            "# Benchmarks: several jobs at once",
            "",
            $"Run {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC on {Environment.ProcessorCount} cores, `{meeshkan}`; medians of three rounds, each system in turn; " +
            $"the data folders and task-spooler's output in `{work}` ({FileSystem(work)}).",
            "",
            "| measure | Meeshkan | baseline | ratio |",
            "|---|---|---|---|",
        };
        var tsp = new TaskSpooler(Path.Combine(work, "tsp"));
        // What a user queues many jobs with: one command per line, one `meeshkan submit --from` (one call).
        var list = Path.Combine(work, "jobs.txt");
        File.WriteAllLines(list, Enumerable.Repeat("true", count));
        foreach (var slots in new[] { 2, 4 })
        {
            var ours = new List<double>();
            var theirs = new List<double>();
            using var agent = new AgentUnderTest(meeshkan, Path.Combine(work, $"p{slots}"));
            agent.Cli("setup", "--slots", slots.ToString(System.Globalization.CultureInfo.InvariantCulture));
            agent.Start();
            for (var round = 0; round < (queueOnly ? 0 : 3); round++)
            {
                Console.Error.WriteLine($"[{DateTime.Now:HH:mm:ss}] {count} jobs, {slots} slots, round {round + 1}");
                theirs.Add(count / (tsp.DispatchParallel(count, slots) / 1000));
                var clock = Stopwatch.StartNew();
                WaitAll(agent, agent.SubmitFrom(list), count);
                ours.Add(count / clock.Elapsed.TotalSeconds);
            }
            // The queues' own rate: every job queued first (Meeshkan paused, task-spooler behind gate jobs), then run.
            var oursQueued = new List<double>();
            var theirsQueued = new List<double>();
            for (var round = 0; round < 3; round++)
            {
                Console.Error.WriteLine($"[{DateTime.Now:HH:mm:ss}] {count} jobs queued first, {slots} slots, round {round + 1}");
                theirsQueued.Add(count / (tsp.RunQueued(count, slots) / 1000));
                agent.Jobs.SetQueuePaused(new SetQueuePausedRequest { Paused = true });
                var last = agent.SubmitBatch(count);
                var clock = Stopwatch.StartNew();
                agent.Jobs.SetQueuePaused(new SetQueuePausedRequest { Paused = false });
                WaitAll(agent, last, count);
                oursQueued.Add(count / clock.Elapsed.TotalSeconds);
            }
            agent.Stop();
            if (queueOnly)
            {
                lines.Add($"| {count} jobs queued first, {slots} slots (jobs/s) | {Median(oursQueued):0} | {Median(theirsQueued):0} | {Median(oursQueued) / Median(theirsQueued):0.00}x |");
                continue;
            }
            lines.Add($"| {count} trivial jobs, {slots} slots (jobs/s, first submit to last end; one `meeshkan submit --from FILE`) | {Median(ours):0} | {Median(theirs):0} (`tsp -S {slots}`, one `tsp true` each) | {Median(ours) / Median(theirs):0.00}x |");
            lines.Add($"| ... all {count} queued first, from `resume` (tsp: from opening a gate) to the last end (jobs/s) | {Median(oursQueued):0} | {Median(theirsQueued):0} | {Median(oursQueued) / Median(theirsQueued):0.00}x |");
        }

        if (queueOnly)
        {
            Console.WriteLine(string.Join('\n', lines));
            return 0;
        }
        Console.Error.WriteLine($"[{DateTime.Now:HH:mm:ss}] GPU handoff, 50 pairs");
        using (var gpuAgent = new AgentUnderTest(meeshkan, Path.Combine(work, "g")))
        {
            gpuAgent.Cli("setup", "--slots", "2");
            gpuAgent.Start();
            var handoff = new List<double>();
            for (var i = 0; i < 50; i++)
            {
                var holder = Submit(gpuAgent, 4, "sleep", "0.1");
                var waiter = Submit(gpuAgent, 4, "true");
                gpuAgent.WaitEnded(waiter);
                var a = gpuAgent.Jobs.GetJob(new GetJobRequest { Identifier = holder.ToString(System.Globalization.CultureInfo.InvariantCulture) });
                var b = gpuAgent.Jobs.GetJob(new GetJobRequest { Identifier = waiter.ToString(System.Globalization.CultureInfo.InvariantCulture) });
                handoff.Add((b.StartedAt.ToDateTime() - a.FinishedAt.ToDateTime()).TotalMilliseconds);
            }
            lines.Add($"| A job waiting for all 4 GPUs starts after the holder's exit (median of 50, ms; the store keeps ms) | {Median(handoff):0} | 20 (target) | |");
            lines.Add($"| ... worst of 50 (ms) | {handoff.Max():0} | | |");

            Console.Error.WriteLine($"[{DateTime.Now:HH:mm:ss}] memory, 10,000 jobs waiting");
            gpuAgent.Cli("pause");
            var idle = RssMb(gpuAgent.Pid);
            for (var i = 0; i < 10; i++)
            {
                gpuAgent.SubmitBatch(1000);
            }
            Thread.Sleep(2000);
            var waiting = RssMb(gpuAgent.Pid);
            lines.Add($"| Agent RSS with 10,000 jobs waiting (MB) | {waiting:0} | {idle:0} (just started, before its first trim) | 80 MB target |");
            gpuAgent.Stop();
        }
        lines.Add("");
        lines.Add("The scheduling decision itself with 10,000 jobs waiting, none of which fits (the worst case), is measured by");
        lines.Add("`AdmissionTests.Deciding_with_ten_thousand_jobs_waiting_takes_well_under_a_millisecond` (printed in its output).");
        File.WriteAllLines(outFile, lines);
        Console.WriteLine(string.Join('\n', lines));
        return 0;
    }

    /// <summary>The file system type of the folder (tmpfs, ext4), from /proc/mounts: the longest mount point holding it.</summary>
    private static string FileSystem(string folder) =>
        File.ReadLines("/proc/mounts").Select(l => l.Split(' ')).Where(f => f.Length > 2 && (folder + "/").StartsWith(f[1].TrimEnd('/') + "/", StringComparison.Ordinal))
            .OrderByDescending(f => f[1].Length).Select(f => f[2]).FirstOrDefault() ?? "unknown";

    private static long Submit(AgentUnderTest agent, double gpus, params string[] command)
    {
        var request = new SubmitJobRequest { WorkingDirectory = "/tmp", Gpus = gpus };
        request.Command.AddRange(command);
        request.Environment.Add("PATH", Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin");
        return agent.Jobs.SubmitJob(request).Job.Number;
    }

    /// <summary>
    /// With several slots jobs end out of order: one WaitJobs call (what `meeshkan wait` sends) for the whole batch,
    /// answered when the last of them ends, as `tsp -w` is for task-spooler.
    /// </summary>
    private static void WaitAll(AgentUnderTest agent, long last, int count)
    {
        var request = new WaitJobsRequest();
        for (var number = last - count + 1; number <= last; number++)
        {
            request.Identifiers.Add(number.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        agent.Jobs.WaitJobs(request);
    }
}
