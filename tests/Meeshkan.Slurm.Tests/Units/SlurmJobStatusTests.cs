using Meeshkan.Agent.Executors.Slurm;
using Meeshkan.V1;
using JobState = Meeshkan.Agent.JobState;

namespace Meeshkan.Slurm.Tests.Units;

public sealed class SlurmJobStatusTests
{
    [Test]
    public void Squeue_lines_carry_state_reason_node_and_the_wait_status()
    {
        var failed = SlurmJobStatus.FromSqueue("12|FAILED|NonZeroExitCode|node7|768|")!;
        Assert.That(failed, Is.EqualTo(new SlurmJobStatus(12, "FAILED", "NonZeroExitCode", "node7", 3, 0)));
        Assert.That(failed.Outcome(), Is.EqualTo((JobState.Failed, (int?)3, "exit status 3 (Slurm 12: FAILED, NonZeroExitCode)")));

        var pending = SlurmJobStatus.FromSqueue("13|PENDING|Resources||0|")!;
        Assert.That(pending.IsWaiting, Is.True);
        Assert.That(pending.Describe(), Is.EqualTo("Slurm 13 PENDING (Resources)"));

        var running = SlurmJobStatus.FromSqueue("14|RUNNING|None|node7|0|")!;
        Assert.That((running.IsWaiting, running.IsEnded), Is.EqualTo((false, false)));
        Assert.That(running.Describe(), Is.EqualTo("Slurm 14 RUNNING on node7"));

        Assert.That(SlurmJobStatus.FromSqueue("JOBID|STATE|REASON|NODELIST|EXIT_CODE|"), Is.Null);
        Assert.That(SlurmJobStatus.FromSqueue(""), Is.Null);
    }

    [Test]
    public void Sacct_lines_split_the_exit_code_and_drop_who_canceled()
    {
        Assert.That(SlurmJobStatus.FromSacct("1|FAILED|3:0|vm|"), Is.EqualTo(new SlurmJobStatus(1, "FAILED", "", "vm", 3, 0)));
        Assert.That(SlurmJobStatus.FromSacct("2|CANCELLED by 0|0:15|vm|None")!.State, Is.EqualTo("CANCELLED"));
        Assert.That(SlurmJobStatus.FromSacct("3|FAILED|0:9|vm|")!.Outcome(),
            Is.EqualTo((JobState.Failed, (int?)137, "killed by signal 9 (Slurm 3: FAILED)")));
    }

    [Test]
    public void An_ended_job_carries_when_it_ended_by_the_clusters_clock()
    {
        var local = new DateTimeOffset(new DateTime(2026, 12, 3, 12, 58, 43, DateTimeKind.Local));
        Assert.That(SlurmJobStatus.FromSqueue("1|FAILED|NonZeroExitCode|vm|768|2026-12-03T12:58:43|")!.EndedAt, Is.EqualTo(local));
        Assert.That(SlurmJobStatus.FromSqueue("2|RUNNING|None|vm|0|2026-12-03T13:58:43|")!.EndedAt, Is.Null, "a running job's EndTime is its limit");
        Assert.That(SlurmJobStatus.FromSacct("3|COMPLETED|0:0|vm||2026-12-03T12:58:43")!.EndedAt, Is.EqualTo(local));
        Assert.That(SlurmJobStatus.FromSacct("4|COMPLETED|0:0|vm||Unknown")!.EndedAt, Is.Null);
    }

    [TestCase("COMPLETED", JobState.Finished, "")]
    [TestCase("CANCELLED", JobState.Canceled, "canceled in Slurm (Slurm 5: CANCELLED)")]
    [TestCase("TIMEOUT", JobState.Failed, "time limit reached (Slurm 5: TIMEOUT)")]
    [TestCase("OUT_OF_MEMORY", JobState.Failed, "out of memory (Slurm 5: OUT_OF_MEMORY)")]
    [TestCase("NODE_FAIL", JobState.Failed, "its node failed (Slurm 5: NODE_FAIL)")]
    [TestCase("PREEMPTED", JobState.Failed, "preempted by another job (Slurm 5: PREEMPTED)")]
    [TestCase("BOOT_FAIL", JobState.Failed, "its node failed to boot (Slurm 5: BOOT_FAIL)")]
    public void Slurm_end_states_map_to_meeshkan_states_with_slurms_state_kept(string slurm, JobState state, string reason)
    {
        var status = new SlurmJobStatus(5, slurm, "", "vm", 0, 0);
        Assert.That(status.IsEnded, Is.True);
        var outcome = status.Outcome();
        Assert.That(outcome.State, Is.EqualTo(state));
        Assert.That(outcome.Reason ?? "", Is.EqualTo(reason));
    }

    [Test]
    public void A_reason_slurm_gives_is_kept() =>
        Assert.That(new SlurmJobStatus(5, "NODE_FAIL", "NodeDown", "vm", null, null).Outcome().Reason,
            Is.EqualTo("its node failed (Slurm 5: NODE_FAIL, NodeDown)"));
}
