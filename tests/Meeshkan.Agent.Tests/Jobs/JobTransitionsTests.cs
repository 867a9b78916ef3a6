using Meeshkan.Agent.Jobs;
using Meeshkan.Agent.Store;

namespace Meeshkan.Agent.Tests.Jobs;

/// <summary>The states a job moves between, and the store holding to them.</summary>
[TestFixture]
public sealed class JobTransitionsTests
{
    [Test]
    public void A_queued_job_starts_fails_to_start_or_is_canceled()
    {
        Assert.That(JobTransitions.IsAllowed(JobState.Queued, JobState.Running), Is.True);
        Assert.That(JobTransitions.IsAllowed(JobState.Queued, JobState.Failed), Is.True);
        Assert.That(JobTransitions.IsAllowed(JobState.Queued, JobState.Canceled), Is.True);
        Assert.That(JobTransitions.IsAllowed(JobState.Queued, JobState.Finished), Is.False, "it never ran");
    }

    [Test]
    public void A_running_job_ends_in_any_end_state_and_never_goes_back_to_the_queue()
    {
        Assert.That(JobTransitions.From(JobState.Finished), Is.EqualTo(new[] { JobState.Running }));
        Assert.That(JobTransitions.From(JobState.Canceled), Is.EquivalentTo(new[] { JobState.Queued, JobState.Running }));
        Assert.That(JobTransitions.IsAllowed(JobState.Running, JobState.Queued), Is.False);
    }

    [Test]
    public void Nothing_leaves_an_end_state()
    {
        var ends = Enum.GetValues<JobState>().Where(JobTransitions.IsEnd);
        Assert.That(ends, Is.EquivalentTo(new[] { JobState.Finished, JobState.Failed, JobState.Canceled }));
        foreach (var end in ends)
        {
            Assert.That(Enum.GetValues<JobState>().Where(to => JobTransitions.IsAllowed(end, to)), Is.Empty, end.ToString());
        }
    }

    [Test]
    public void The_store_refuses_a_move_the_table_does_not_allow()
    {
        var folder = Directory.CreateTempSubdirectory("mk-states-").FullName;
        try
        {
            var database = new Database(Path.Combine(folder, "agent.db"));
            database.Migrate();
            var store = new JobStore(database, TimeProvider.System);
            var job = store.Insert([new JobStore.NewJob("a", ["true"], folder, null, 60)], n => Path.Combine(folder, n.ToString()))[0];

            Assert.That(store.MarkEnded(job.Number, JobState.Finished, 0, null, onlyFrom: JobState.Running), Is.Null, "not running yet");
            Assert.That(store.MarkRunning(job, "local", "1:2", 1)?.State, Is.EqualTo(JobState.Running));
            Assert.That(store.MarkRunning(job, "local", "1:2", 1), Is.Null, "already running");
            Assert.That(store.MarkEnded(job.Number, JobState.Canceled, null, "x", onlyFrom: JobState.Queued), Is.Null, "no longer queued");
            Assert.That(store.MarkEnded(job.Number, JobState.Finished, 0, null)?.State, Is.EqualTo(JobState.Finished));
            Assert.That(store.MarkEnded(job.Number, JobState.Canceled, null, "late"), Is.Null, "an ended job stays as it ended");
            Assert.That(store.GetByNumber(job.Number)!.State, Is.EqualTo(JobState.Finished));
            Assert.Throws<ArgumentException>(() => store.MarkEnded(job.Number, JobState.Finished, 0, null, onlyFrom: JobState.Queued));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Test]
    public void An_exit_becomes_an_end_state_and_a_reason()
    {
        var at = DateTimeOffset.UtcNow;
        Assert.That(JobOutcome.Of(new(1, 0, at), canceled: false), Is.EqualTo((JobState.Finished, (string?)null)));
        Assert.That(JobOutcome.Of(new(1, 3, at), canceled: false), Is.EqualTo((JobState.Failed, "exit status 3")));
        Assert.That(JobOutcome.Of(new(1, 137, at), canceled: false), Is.EqualTo((JobState.Failed, "killed by signal 9 (exit status 137)")));
        Assert.That(JobOutcome.Of(new(1, 143, at), canceled: true), Is.EqualTo((JobState.Canceled, "canceled by the user")));
        Assert.That(JobOutcome.Of(new(1, null, at, "gone"), canceled: false), Is.EqualTo((JobState.Failed, "gone")));
    }
}
