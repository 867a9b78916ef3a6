using System.Diagnostics;
using Meeshkan.Agent.Gpus;
using Meeshkan.Agent.Scheduler;

namespace Meeshkan.Agent.Tests.Scheduling;

/// <summary>The policy that picks the next job: priorities, backfill, and the rule that no job waits forever.</summary>
[TestFixture]
public sealed class AdmissionTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 3, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan ReserveAfter = TimeSpan.FromMinutes(10);

    private static GpuInventory Four() => new(Enumerable.Range(0, 4).Select(i => new Gpu(i, $"GPU-{i}", "Fake", 16000, 0)));

    private static WaitingJob Job(long number, int priority = 0, int quarters = 0, int[]? ids = null, double minutesAgo = 1) =>
        new(number, priority, new GpuRequest(new GpuAmount(quarters), ids), Now.AddMinutes(-minutesAgo));

    private static WaitingQueue Queue(params WaitingJob[] jobs)
    {
        var queue = new WaitingQueue();
        foreach (var job in jobs)
        {
            queue.Add(job);
        }
        return queue;
    }

    private static long? Next(WaitingQueue queue, GpuInventory gpus, int freeSlots = 1) =>
        Admission.Next(queue, freeSlots, gpus, Now, ReserveAfter)?.Job.Number;

    [Test]
    public void Higher_priority_first_then_first_in_first_out()
    {
        var queue = Queue(Job(1), Job(2, priority: 5), Job(3, priority: 5), Job(4, priority: -1));
        var order = new List<long>();
        while (Next(queue, Four()) is { } next)
        {
            order.Add(next);
            queue.Remove(next);
        }
        Assert.That(order, Is.EqualTo(new long[] { 2, 3, 1, 4 }));
    }

    [Test]
    public void Nothing_starts_without_a_free_slot()
    {
        Assert.That(Next(Queue(Job(1)), Four(), freeSlots: 0), Is.Null);
        Assert.That(Next(new WaitingQueue(), Four()), Is.Null);
    }

    [Test]
    public void A_job_waiting_for_gpus_does_not_hold_up_smaller_jobs_behind_it()
    {
        var gpus = Four();
        gpus.Take(100, new GpuAmount(8), [0, 1]);
        var queue = Queue(Job(1, priority: 9, quarters: 16), Job(2, quarters: 4), Job(3));
        var admitted = Admission.Next(queue, 3, gpus, Now, ReserveAfter)!.Value;
        Assert.That(admitted.Job.Number, Is.EqualTo(2));
        Assert.That(admitted.Gpus, Is.EqualTo(new[] { 2 }));
        Assert.That(Admission.WhyWaiting(queue.Get(1)!, 0, 3, gpus, paused: false, keptFor: null), Is.EqualTo("waiting for 4 GPUs"));
    }

    [Test]
    public void A_job_that_waited_past_the_limit_goes_first_whatever_its_priority()
    {
        var queue = Queue(Job(1, priority: -5, minutesAgo: 11), Job(2, priority: 100));
        Assert.That(Next(queue, Four()), Is.EqualTo(1));
    }

    [Test]
    public void The_overdue_job_has_its_gpus_kept_so_a_stream_of_small_jobs_cannot_starve_it()
    {
        var gpus = Four();
        gpus.Take(100, new GpuAmount(4), [0]);
        var big = Job(1, quarters: 16, minutesAgo: 30);
        var queue = Queue(big, Job(2, priority: 9, quarters: 1), Job(3, quarters: 4), Job(4));
        Assert.That(Admission.Next(queue, 3, gpus, Now, ReserveAfter)?.Job.Number, Is.EqualTo(4),
            "GPUs 1-3 are free but kept for job 1: only the job without GPUs starts, in a slot job 1 does not need");
        Assert.That(Admission.Next(queue, 1, gpus, Now, ReserveAfter), Is.Null, "the last slot is kept too");
        Assert.That(Admission.Overdue(queue, gpus, Now, ReserveAfter), Is.EqualTo(big));
        Assert.That(Admission.WhyWaiting(queue.Get(2)!, 0, 3, gpus, false, big), Does.Contain("kept for job 1"));
        gpus.Release(100);
        Assert.That(Admission.Next(queue, 1, gpus, Now, ReserveAfter)?.Job.Number, Is.EqualTo(1));
    }

    [Test]
    public void Without_the_limit_the_same_stream_would_go_ahead()
    {
        var gpus = Four();
        gpus.Take(100, new GpuAmount(4), [0]);
        var queue = Queue(Job(1, quarters: 16, minutesAgo: 5), Job(2, priority: 9, quarters: 1));
        Assert.That(Next(queue, gpus), Is.EqualTo(2), "backfill while job 1 has not waited 10 minutes");
    }

    [Test]
    public void Kept_gpus_are_only_those_the_overdue_job_may_use()
    {
        var gpus = Four();
        gpus.Take(100, new GpuAmount(4), [0]);
        var queue = Queue(Job(1, quarters: 8, ids: [0, 1], minutesAgo: 30), Job(2, quarters: 4));
        var admitted = Admission.Next(queue, 2, gpus, Now, ReserveAfter)!.Value;
        Assert.That(admitted.Job.Number, Is.EqualTo(2));
        Assert.That(admitted.Gpus, Is.EqualTo(new[] { 2 }), "GPU 1 is kept for job 1");
    }

    [Test]
    public void A_job_the_machine_cannot_ever_run_keeps_nothing_for_itself()
    {
        var queue = Queue(Job(1, quarters: 4, ids: [7], minutesAgo: 30), Job(2, quarters: 4));
        Assert.That(Next(queue, Four()), Is.EqualTo(2));
        Assert.That(Admission.WhyWaiting(queue.Get(1)!, 0, 1, Four(), false, null), Does.StartWith("cannot start"));
    }

    [Test]
    public void A_job_waiting_after_the_slots_were_lowered_is_told_how_many_run_and_how_many_slots_there_are()
    {
        var queue = Queue(Job(1));
        Assert.That(Admission.WhyWaiting(queue.Get(1)!, 2, 1, Four(), false, null), Is.EqualTo("waiting for a free slot (2 running, 1 slot)"));
        Assert.That(Admission.WhyWaiting(queue.Get(1)!, 3, 3, Four(), false, null), Is.EqualTo("waiting for a free slot (3 running, 3 slots)"));
        Assert.That(Admission.WhyWaiting(queue.Get(1)!, 1, 3, Four(), false, null), Is.EqualTo("waiting for its turn"));
    }

    [Test]
    public void Other_gates_are_composed_before_resources()
    {
        var queue = Queue(Job(1, priority: 5), Job(2));
        Assert.That(Admission.Next(queue, 1, Four(), Now, ReserveAfter, ready: j => j.Number != 1)?.Job.Number, Is.EqualTo(2));
    }

    [Test]
    public void Picks_what_a_plain_scan_of_the_rule_picks_on_random_queues()
    {
        var random = new Random(15);
        for (var round = 0; round < 2000; round++)
        {
            var gpus = Four();
            var held = 0L;
            foreach (var index in Enumerable.Range(0, 4))
            {
                var take = random.Next(5);
                if (take > 0)
                {
                    gpus.Take(1000 + held++, new GpuAmount(take == 4 ? 4 : take), [index]);
                }
            }
            // Job numbers grow with submission time: the older, the smaller.
            var age = 20.0;
            var jobs = Enumerable.Range(1, random.Next(1, 30)).Select(n => Job(n, random.Next(-2, 3),
                new[] { 0, 1, 2, 4, 8, 16 }[random.Next(6)], random.Next(5) == 0 ? [random.Next(4)] : null, age -= random.NextDouble() * 2)).ToList();
            jobs = jobs.Select(j => j.Gpus.Ids is { } ids ? j with { Gpus = new GpuRequest(new GpuAmount(Math.Min(Math.Max(j.Gpus.Amount.Quarters, 1), 4)), ids) } : j).ToList();
            var queue = Queue([.. jobs]);
            var slots = random.Next(1, 4);
            Assert.That(Admission.Next(queue, slots, gpus, Now, ReserveAfter)?.Job.Number, Is.EqualTo(Reference(jobs, slots, gpus)), $"round {round}");
        }
    }

    /// <summary>The README's rule, scanned plainly.</summary>
    private static long? Reference(List<WaitingJob> jobs, int slots, GpuInventory gpus)
    {
        var overdue = jobs.Where(j => j.QueuedAt <= Now - ReserveAfter && gpus.Impossible(j.Gpus) is null).OrderBy(j => j.Number).FirstOrDefault();
        if (overdue is not null)
        {
            if (gpus.Fit(overdue.Gpus) is not null)
            {
                return overdue.Number;
            }
            slots--;
        }
        var kept = overdue is null ? null : Admission.Kept(overdue, gpus);
        return slots <= 0 ? null : jobs.Where(j => j != overdue).OrderByDescending(j => j.Priority).ThenBy(j => j.Number)
            .FirstOrDefault(j => gpus.Fit(j.Gpus, kept) is not null)?.Number;
    }

    [Test]
    public void Deciding_with_ten_thousand_jobs_waiting_takes_well_under_a_millisecond()
    {
        // Nobody fits: the worst case, for a policy that looks at every job.
        var gpus = Four();
        gpus.Take(1, new GpuAmount(12), [0, 1, 2]);
        var queue = new WaitingQueue();
        var random = new Random(1);
        for (var n = 2; n < 10_002; n++)
        {
            queue.Add(random.Next(5) == 0
                ? Job(n, random.Next(-3, 4), 4, [random.Next(3)], 5 - n / 10_000.0)
                : Job(n, random.Next(-3, 4), new[] { 8, 16 }[random.Next(2)], null, 5 - n / 10_000.0));
        }
        Assert.That(Admission.Next(queue, 2, gpus, Now, ReserveAfter), Is.Null);
        var clock = Stopwatch.StartNew();
        const int Rounds = 200;
        for (var i = 0; i < Rounds; i++)
        {
            Admission.Next(queue, 2, gpus, Now, ReserveAfter);
        }
        var perDecision = clock.Elapsed.TotalMilliseconds / Rounds;
        TestContext.Out.WriteLine($"one decision with 10,000 waiting: {perDecision:0.000} ms");
        Assert.That(perDecision, Is.LessThan(1.0));
    }
}
