using Meeshkan.Agent.Scheduler;
using Meeshkan.Agent.Store;

namespace Meeshkan.Agent.Tests.Jobs;

/// <summary>Which job starts next, without a process.</summary>
[TestFixture]
public sealed class SchedulingPolicyTests
{
    private static JobRecord Job(long number, JobState state = JobState.Queued) => new()
    {
        Number = number, Id = $"id{number}", Name = $"job{number}", State = state, Command = ["true"], WorkingDirectory = "/",
        OutputDirectory = $"/tmp/{number}",
    };

    [Test]
    public void The_oldest_queued_job_starts_first()
    {
        Assert.That(SchedulingPolicy.PickNext([Job(7), Job(3), Job(5)], new FreeResources(1))?.Number, Is.EqualTo(3));
    }

    [Test]
    public void Nothing_starts_without_a_free_slot()
    {
        Assert.That(SchedulingPolicy.PickNext([Job(1)], new FreeResources(0)), Is.Null);
    }

    [Test]
    public void Only_queued_jobs_start()
    {
        Assert.That(SchedulingPolicy.PickNext([Job(1, JobState.Canceled), Job(2)], new FreeResources(2))?.Number, Is.EqualTo(2));
        Assert.That(SchedulingPolicy.PickNext([Job(1, JobState.Running)], new FreeResources(2)), Is.Null);
        Assert.That(SchedulingPolicy.PickNext([], new FreeResources(4)), Is.Null);
    }
}
