using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Meeshkan.Testing;

namespace Meeshkan.Cli.Tests;

/// <summary>
/// Several jobs at once on a four-GPU box (a fake nvidia-smi on the agent's PATH): slots, GPU shares, priorities,
/// GPUs busy with foreign processes, pause, and an agent killed with -9 while GPU jobs run.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class ParallelGpuTests() : SandboxFixture(AgentPer.Test)
{
    private FakeNvidiaSmi _gpus = null!;

    protected override void Prepare(MeeshkanSandbox sandbox)
    {
        _gpus = new FakeNvidiaSmi();
        sandbox.Environment["PATH"] = _gpus.SearchPath;
        sandbox.Ok("setup", "--slots", "3");
    }

    protected override void Stopped() => _gpus.Dispose();

    /// <summary>A job that records what it saw: "start_ns end_ns CUDA_VISIBLE_DEVICES|MEESHKAN_GPUS|MEESHKAN_SLOT".</summary>
    private string Recorder() => Sandbox.WriteFile("record.sh", """
        #!/bin/sh
        s=$(date +%s%N)
        sleep "$2"
        echo "$s $(date +%s%N) ${CUDA_VISIBLE_DEVICES-unset}|${MEESHKAN_GPUS-unset}|${MEESHKAN_SLOT-unset}" > "$1"
        """, executable: true);

    private string Out(string name) => Path.Combine(Sandbox.WorkDir, name);

    private const long StartJitter = 100_000_000; // ns: 0.1 s

    private static (long Start, long End, string Cuda, string Gpus, string Slot) Read(string file)
    {
        var words = File.ReadAllText(file).Trim().Split(' ', 3);
        var env = words[2].Split('|');
        return (long.Parse(words[0], CultureInfo.InvariantCulture), long.Parse(words[1], CultureInfo.InvariantCulture), env[0], env[1], env[2]);
    }

    private JsonElement ListedJson(long number)
    {
        using var doc = JsonDocument.Parse(Sandbox.Ok("list", "--json"));
        return doc.RootElement.GetProperty("jobs").EnumerateArray()
            .First(j => j.GetProperty("number").GetString() == number.ToString(CultureInfo.InvariantCulture)).Clone();
    }

    /// <summary>One `list` per poll for all of them (a CLI call costs up to seconds on a loaded machine).</summary>
    private void WaitAllEnded(IEnumerable<long> numbers, int seconds = 120)
    {
        var wanted = numbers.ToHashSet();
        var clock = Stopwatch.StartNew();
        while (Sandbox.Jobs().Count(j => wanted.Contains(j.Number) && j.State is "FINISHED" or "FAILED" or "CANCELED") < wanted.Count)
        {
            Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(seconds)), "jobs did not all end in time");
            Thread.Sleep(200);
        }
    }

    [Test]
    public void Three_slots_run_three_jobs_at_the_same_time_each_in_its_own_slot_with_no_gpu()
    {
        var recorder = Recorder();
        Sandbox.Ok("pause");
        var jobs = Enumerable.Range(0, 3).Select(i => Sandbox.Submit(recorder, Out($"o{i}"), "2")).ToList();
        Sandbox.Ok("resume");
        WaitAllEnded(jobs);
        var runs = Enumerable.Range(0, 3).Select(i => Read(Out($"o{i}"))).ToList();
        Assert.That(runs.Max(r => r.Start), Is.LessThan(runs.Min(r => r.End)), "all three ran at one instant");
        Assert.That(runs.Select(r => r.Slot).Order(), Is.EqualTo(new[] { "0", "1", "2" }));
        Assert.That(runs.Select(r => r.Cuda), Is.All.EqualTo(""), "with several slots a job without --gpus sees no GPU");
    }

    [Test]
    public void A_job_gets_its_gpus_in_cuda_visible_devices_and_shares_pack_on_one_gpu()
    {
        var recorder = Recorder();
        Sandbox.Ok("pause");
        var whole = Sandbox.Submit("--gpus", "2", recorder, Out("whole"), "1");
        var half1 = Sandbox.Submit("--gpus", "1/2", recorder, Out("h1"), "1");
        var half2 = Sandbox.Submit("--gpus", "0.5", recorder, Out("h2"), "1");
        Sandbox.Ok("resume");
        WaitAllEnded([whole, half1, half2]);
        var w = Read(Out("whole"));
        Assert.That(w.Cuda, Is.EqualTo("0,1"));
        Assert.That(w.Gpus, Is.EqualTo("0,1"));
        var h1 = Read(Out("h1"));
        var h2 = Read(Out("h2"));
        Assert.That(h1.Cuda, Is.EqualTo("2"));
        Assert.That(h2.Cuda, Is.EqualTo("2"), "two halves share one GPU");
        Assert.That(Math.Max(h1.Start, h2.Start), Is.LessThan(Math.Min(h1.End, h2.End)), "at the same time");
        var listed = ListedJson(whole);
        Assert.That(listed.GetProperty("gpus").EnumerateArray().Select(g => g.GetInt32()), Is.EqualTo(new[] { 0, 1 }));
    }

    [Test]
    public void Status_shows_the_slots_and_a_table_of_gpus_with_their_holders()
    {
        var job = Sandbox.Submit("--gpu-ids", "3", "sleep", "30");
        Sandbox.WaitForState(job, TimeSpan.FromSeconds(30), "RUNNING");
        var status = Sandbox.Ok("status");
        Assert.That(status, Does.Contain("slots        3 (1 running)"));
        Assert.That(status, Does.Match(@"3\s+Fake GPU 3\s+\S+ / 16384 MiB\s+job " + job));
        var list = Sandbox.Ok("list");
        Assert.That(list, Does.Contain("GPUS"));
        Sandbox.Ok("cancel", "-y", job.ToString(CultureInfo.InvariantCulture));
    }

    [Test]
    public void A_job_waiting_for_gpus_says_so_and_starts_when_the_holder_ends()
    {
        var holder = Sandbox.Submit("--gpus", "4", "sleep", "60");
        Sandbox.WaitForState(holder, TimeSpan.FromSeconds(30), "RUNNING");
        var waiting = Sandbox.Submit("--gpus", "2", "true");
        var free = Sandbox.Submit("true");
        Sandbox.WaitForEnd(free);
        Assert.That(ListedJson(waiting).GetProperty("waitingReason").GetString(), Is.EqualTo("waiting for 2 GPUs"));
        Assert.That(Sandbox.Ok("list"), Does.Contain("waiting for 2 GPUs"));
        Sandbox.Ok("cancel", "-y", holder.ToString(CultureInfo.InvariantCulture));
        Assert.That(Sandbox.WaitForEnd(waiting).State, Is.EqualTo("FINISHED"));
        Assert.That(Sandbox.Job(waiting)!.StartedAt, Is.GreaterThanOrEqualTo(Sandbox.Job(holder)!.FinishedAt!.Value));
    }

    [Test]
    public void Higher_priority_starts_first_and_equals_in_order()
    {
        Sandbox.Ok("pause");
        var recorder = Recorder();
        var low = Sandbox.Submit("--gpus", "4", recorder, Out("low"), "0.2");
        var high = Sandbox.Submit("--gpus", "4", "--priority", "10", recorder, Out("high"), "0.2");
        var mid1 = Sandbox.Submit("--gpus", "4", "--priority", "5", recorder, Out("mid1"), "0.2");
        var mid2 = Sandbox.Submit("--gpus", "4", "--priority", "5", recorder, Out("mid2"), "0.2");
        Assert.That(ListedJson(high).GetProperty("waitingReason").GetString(), Does.StartWith("paused"));
        Sandbox.Ok("resume");
        WaitAllEnded([low, high, mid1, mid2]);
        var order = new[] { "low", "high", "mid1", "mid2" }.OrderBy(n => Read(Out(n)).Start).ToList();
        Assert.That(order, Is.EqualTo(new[] { "high", "mid1", "mid2", "low" }));
    }

    [Test]
    public void A_gpu_busy_with_a_foreign_process_is_skipped_until_it_frees()
    {
        _gpus.SetUsed(9000, 0, 0, 0);
        Sandbox.Ok("stop");
        Sandbox.Start();
        var job = Sandbox.Submit("--gpu-ids", "0", "true");
        var other = Sandbox.Submit("--gpus", "1", "sh", "-c", "echo $CUDA_VISIBLE_DEVICES");
        Assert.That(Sandbox.WaitForEnd(other).State, Is.EqualTo("FINISHED"));
        Assert.That(Sandbox.Ok("logs", other.ToString(CultureInfo.InvariantCulture)).Trim(), Does.StartWith("1"), "GPU 0 skipped");
        Assert.That(ListedJson(job).GetProperty("waitingReason").GetString(), Does.Contain("GPU 0 is busy with a process outside Meeshkan"));
        Assert.That(Sandbox.Ok("status"), Does.Contain("busy outside Meeshkan"));
        _gpus.SetUsed(0, 0, 0, 0);
        Assert.That(Sandbox.WaitForEnd(job, 30).State, Is.EqualTo("FINISHED"), "re-checked while it waits");
    }

    [Test]
    public void Pause_drains_and_is_kept_across_a_restart_and_a_waiting_job_can_be_canceled()
    {
        var running = Sandbox.Submit("sleep", "2");
        Sandbox.WaitForState(running, TimeSpan.FromSeconds(30), "RUNNING");
        Sandbox.Ok("pause");
        var queued = Sandbox.Submit("true");
        var canceled = Sandbox.Submit("true");
        Assert.That(Sandbox.WaitForEnd(running).State, Is.EqualTo("FINISHED"), "a running job goes on");
        Sandbox.Ok("cancel", canceled.ToString(CultureInfo.InvariantCulture));
        Assert.That(Sandbox.Job(canceled)!.State, Is.EqualTo("CANCELED"));
        Sandbox.Ok("stop");
        Sandbox.Start();
        Thread.Sleep(1000);
        Assert.That(Sandbox.Job(queued)!.State, Is.EqualTo("QUEUED"));
        Assert.That(Sandbox.Ok("status"), Does.Contain("paused"));
        Sandbox.Ok("resume");
        Assert.That(Sandbox.WaitForEnd(queued).State, Is.EqualTo("FINISHED"));
    }

    [Test]
    public void Setup_slots_applies_to_a_running_agent()
    {
        Sandbox.Ok("setup", "--slots", "1");
        var recorder = Recorder();
        var first = Sandbox.Submit(recorder, Out("a"), "30");
        var second = Sandbox.Submit(recorder, Out("b"), "30");
        Sandbox.WaitForState(first, TimeSpan.FromSeconds(30), "RUNNING");
        Thread.Sleep(500);
        Assert.That(Sandbox.Job(second)!.State, Is.EqualTo("QUEUED"), "one slot");
        Sandbox.Ok("setup", "--slots", "2");
        Sandbox.WaitForState(second, TimeSpan.FromSeconds(30), "RUNNING");
        Assert.That(Sandbox.Job(first)!.State, Is.EqualTo("RUNNING"), "started at once, not when the first ended");
        Sandbox.Ok("setup", "--slots", "1");
        Assert.That(Sandbox.Job(first)!.State, Is.EqualTo("RUNNING"), "lowering the slots never stops a running job");
        Assert.That(Sandbox.Job(second)!.State, Is.EqualTo("RUNNING"), "lowering the slots never stops a running job");
        var third = Sandbox.Submit("true");
        Assert.That(ListedJson(third).GetProperty("waitingReason").GetString(), Is.EqualTo("waiting for a free slot (2 running, 1 slot)"));
        Sandbox.Ok("cancel", "-y", first.ToString(CultureInfo.InvariantCulture));
        Sandbox.Ok("cancel", "-y", second.ToString(CultureInfo.InvariantCulture));
        Assert.That(Sandbox.WaitForEnd(third).State, Is.EqualTo("FINISHED"), "it starts once both have ended");
    }

    [Test]
    public void After_kill_9_running_jobs_keep_their_gpus_and_slots_and_the_waiting_start_in_order()
    {
        var recorder = Recorder();
        Sandbox.Ok("pause");
        var running = new[] { "r0", "r1", "r2" }.Select(n => Sandbox.Submit("--gpus", "1", recorder, Out(n), "15")).ToList();
        var waiting = Enumerable.Range(0, 10).Select(i => Sandbox.Submit("--gpus", "2", recorder, Out($"w{i}"), "0.2")).ToList();
        Sandbox.Ok("resume");
        foreach (var job in running)
        {
            Sandbox.WaitForState(job, TimeSpan.FromSeconds(30), "RUNNING");
        }
        var before = running.Select(ListedJson).Select(j => j.GetProperty("gpus")[0].GetInt32()).ToList();
        Process.GetProcessById(Sandbox.AgentPid!.Value).Kill();
        Thread.Sleep(300);
        Sandbox.Start();
        var after = running.Select(ListedJson).ToList();
        Assert.That(after.Select(j => j.GetProperty("gpus")[0].GetInt32()), Is.EqualTo(before), "kept their GPUs");
        Assert.That(after.Select(j => j.GetProperty("state").GetString()), Is.All.EqualTo("JOB_STATE_RUNNING"));
        WaitAllEnded([.. running, .. waiting]);
        var r = new[] { "r0", "r1", "r2" }.Select(n => Read(Out(n))).ToList();
        var w = Enumerable.Range(0, 10).Select(i => Read(Out($"w{i}"))).ToList();
        Assert.That(r.Select(x => x.Slot).Order(), Is.EqualTo(new[] { "0", "1", "2" }));
        Assert.That(w.Min(x => x.Start), Is.GreaterThan(r.OrderBy(x => x.End).Skip(1).First().End),
            "a 2-GPU job waited until two of the 1-GPU holders were gone: no GPU handed out twice");
        // Started in submission order: two jobs handed to two slots side by side read their clocks a few microseconds
        // to milliseconds apart, so each may read at most 0.1 s before the one submitted ahead of it.
        Assert.That(w.Zip(w.Skip(1)).Where(p => p.Second.Start < p.First.Start - StartJitter), Is.Empty, "in submission order");
        AssertNoOverCommit(r.Concat(w).Select(x => (x.Start, x.End, x.Cuda, 4)).ToList());
    }

    [Test]
    public void Two_hundred_random_jobs_never_over_commit_a_gpu_and_each_runs_once_in_priority_order()
    {
        var random = new Random(2026);
        var recorder = Recorder();
        string[] amounts = ["0", "1/4", "1/2", "1", "2", "4"];
        var jobs = new List<(long Number, string Amount, int Priority, string File)>();
        var wire = new Dictionary<string, double> { ["0"] = 0, ["1/4"] = 0.25, ["1/2"] = 0.5, ["1"] = 1, ["2"] = 2, ["4"] = 4 };
        var planned = new List<(string Amount, int Priority, string File)>();
        // One SubmitJobs call (as the SDKs do): 200 CLI processes would take minutes on a loaded 2-core machine.
        var batch = new V1.SubmitJobsRequest();
        for (var i = 0; i < 200; i++)
        {
            var amount = amounts[random.Next(amounts.Length)];
            var priority = random.Next(-2, 3);
            var file = Out($"rand{i}");
            var seconds = (random.Next(301) / 1000.0).ToString("0.000", CultureInfo.InvariantCulture);
            var request = new V1.SubmitJobRequest { WorkingDirectory = Sandbox.WorkDir, Gpus = wire[amount], Priority = priority };
            request.Command.AddRange([recorder, file, seconds]);
            request.Environment["PATH"] = Environment.GetEnvironmentVariable("PATH")!;
            batch.Jobs.Add(request);
            planned.Add((amount, priority, file));
        }
        Sandbox.Ok("pause");
        using (var channel = AgentChannel.ForSocket(Sandbox.SocketPath))
        {
            var reply = new V1.JobService.JobServiceClient(channel).SubmitJobs(batch);
            jobs.AddRange(reply.Jobs.Select((j, i) => (j.Number, planned[i].Amount, planned[i].Priority, planned[i].File)));
        }
        Sandbox.Ok("resume");
        WaitAllEnded(jobs.Select(j => j.Number), 300);
        var listed = Sandbox.Jobs().ToDictionary(j => j.Number);
        Assert.That(jobs.Select(j => listed[j.Number].State), Is.All.EqualTo("FINISHED"), "every job ended");
        var runs = jobs.Select(j => (Job: j, Run: Read(j.File))).ToList();
        var quarters = new Dictionary<string, int> { ["0"] = 0, ["1/4"] = 1, ["1/2"] = 2, ["1"] = 4, ["2"] = 4, ["4"] = 4 };
        AssertNoOverCommit(runs.Select(r => (r.Run.Start, r.Run.End, r.Run.Cuda, quarters[r.Job.Amount])).ToList());
        foreach (var (job, run) in runs)
        {
            var wanted = job.Amount switch { "0" => 0, "2" => 2, "4" => 4, _ => 1 };
            Assert.That(run.Cuda.Length == 0 ? 0 : run.Cuda.Split(',').Length, Is.EqualTo(wanted), $"job {job.Number} --gpus {job.Amount}");
        }
        // Jobs that asked for the same GPUs could start in the same conditions: among them, priority order, then FIFO.
        foreach (var group in runs.GroupBy(r => r.Job.Amount))
        {
            // A job that should go first may read its clock up to StartJitter after one started beside it in another slot.
            var expected = group.OrderByDescending(r => r.Job.Priority).ThenBy(r => r.Job.Number).ToList();
            var overtaken = expected.SelectMany((first, i) => expected.Skip(i + 1)
                    .Where(later => later.Run.Start < first.Run.Start - StartJitter)
                    .Select(later => $"job {later.Job.Number} (priority {later.Job.Priority}) before job {first.Job.Number} (priority {first.Job.Priority})"))
                .ToList();
            Assert.That(overtaken, Is.Empty, $"start order of --gpus {group.Key} jobs");
        }
        var peak = runs.Max(a => runs.Count(b => b.Run.Start <= a.Run.Start && a.Run.Start < b.Run.End));
        Assert.That(peak, Is.LessThanOrEqualTo(3), "never more than 3 at once");
    }

    /// <summary>At each job's start, the shares of every GPU among the jobs running then sum to at most one GPU.</summary>
    private static void AssertNoOverCommit(List<(long Start, long End, string Cuda, int Quarters)> runs)
    {
        foreach (var at in runs)
        {
            var load = new Dictionary<string, int>();
            foreach (var r in runs.Where(r => r.Start <= at.Start && at.Start < r.End && r.Cuda.Length > 0))
            {
                foreach (var gpu in r.Cuda.Split(','))
                {
                    load[gpu] = load.GetValueOrDefault(gpu) + r.Quarters;
                }
            }
            Assert.That(load.Values, Is.All.LessThanOrEqualTo(4), $"GPU load at {at.Start}: {string.Join(", ", load)}");
        }
    }

    [Test]
    public void Ten_thousand_waiting_jobs_keep_the_agent_under_80_mb()
    {
        Sandbox.Ok("pause");
        using var channel = AgentChannel.ForSocket(Path.Combine(Sandbox.Home, "agent.sock"));
        var jobs = new Meeshkan.V1.JobService.JobServiceClient(channel);
        for (var call = 0; call < 10; call++)
        {
            var batch = new Meeshkan.V1.SubmitJobsRequest();
            for (var i = 0; i < 1000; i++)
            {
                batch.Jobs.Add(new Meeshkan.V1.SubmitJobRequest { WorkingDirectory = Sandbox.WorkDir, Command = { "true" }, Gpus = i % 4 == 0 ? 1 : 0 });
            }
            jobs.SubmitJobs(batch);
        }
        // The burst's garbage is given back within a second or two of its end (Hosting/MemoryTrimmer).
        var clock = Stopwatch.StartNew();
        double rss;
        while ((rss = Processes.StatusKb(Sandbox.AgentPid!.Value, "VmRSS:") / 1024.0) >= 80 && clock.Elapsed < TimeSpan.FromSeconds(10))
        {
            Thread.Sleep(250);
        }
        Assert.That(rss, Is.LessThan(80), "agent RSS in MB with 10,000 jobs waiting");
        Assert.That(Sandbox.Ok("status"), Does.Contain("paused"));
    }

    [TestCase(new[] { "submit", "--gpus", "-1", "true" }, "--gpus")]
    [TestCase(new[] { "submit", "--gpus", "abc", "true" }, "--gpus")]
    [TestCase(new[] { "submit", "--gpus", "0.3", "true" }, "1/2 or 1/4")]
    [TestCase(new[] { "submit", "--gpus", "5", "true" }, "more than the 4 GPUs")]
    [TestCase(new[] { "submit", "--gpu-ids", "9", "true" }, "--gpu-ids 9")]
    [TestCase(new[] { "submit", "--priority", "99999999999", "true" }, "--priority")]
    [TestCase(new[] { "submit", "--priority", "high", "true" }, "--priority")]
    [TestCase(new[] { "setup", "--slots", "0" }, "--slots")]
    [TestCase(new[] { "setup", "--slots", "many" }, "--slots")]
    [TestCase(new[] { "setup", "--gpus", "all" }, "auto, none")]
    [TestCase(new[] { "setup", "--gpu-busy-memory", "-5" }, "--gpu-busy-memory")]
    [TestCase(new[] { "setup", "--gpus", "0,9" }, "GPU 9 is not on this machine")]
    public void Bad_input_is_one_line_exit_2_and_nothing_queued(string[] args, string message)
    {
        var before = Sandbox.Jobs().Count;
        var result = Sandbox.Run(args);
        Assert.That(result.ExitCode, Is.EqualTo(2), result.ToString());
        Assert.That(result.Stderr.Trim().Split('\n'), Has.Length.EqualTo(1), result.ToString());
        Assert.That(result.Stderr, Does.Contain(message));
        Assert.That(Sandbox.Jobs(), Has.Count.EqualTo(before));
    }

    [Test]
    public void Gpus_on_an_agent_without_gpus_is_refused()
    {
        Sandbox.Ok("setup", "--gpus", "none");
        var result = Sandbox.Run("submit", "--gpus", "1", "true");
        Assert.That(result.ExitCode, Is.EqualTo(2), result.ToString());
        Assert.That(result.Stderr, Does.Contain("no GPUs"));
        Assert.That(Sandbox.Jobs(), Is.Empty);
    }
}
