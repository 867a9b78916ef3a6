using Meeshkan.Agent.Jobs;
using Meeshkan.V1;

namespace Meeshkan.Agent.Tests.Jobs;

/// <summary>submit --after and --after-any: when a job may start, must wait, or can never start.</summary>
[TestFixture]
public sealed class DependencyGateTests
{
    private readonly Dictionary<long, (JobState, string?)> _jobs = new()
    {
        [1] = (JobState.Finished, null),
        [2] = (JobState.Failed, "exit status 3"),
        [3] = (JobState.Canceled, "canceled by the user"),
        [4] = (JobState.Running, null),
        [5] = (JobState.Queued, null),
        [6] = (JobState.Finished, null),
    };

    private DependencyGate.Verdict Check(long[] after, long[]? afterAny = null) =>
        DependencyGate.Check(after, afterAny ?? [], n => _jobs.TryGetValue(n, out var s) ? s : null);

    [Test]
    public void No_dependencies_or_all_finished_is_ready()
    {
        Assert.That(Check([]), Is.TypeOf<DependencyGate.Ready>());
        Assert.That(Check([1, 6]), Is.TypeOf<DependencyGate.Ready>());
    }

    [Test]
    public void A_dependency_not_ended_makes_it_wait_for_the_first_such()
    {
        Assert.That(Check([1, 5, 4]), Is.EqualTo(new DependencyGate.Waiting(5)));
        Assert.That(((DependencyGate.Waiting)Check([4])).Reason, Is.EqualTo("waiting for job 4"));
    }

    [Test]
    public void A_failed_or_canceled_dependency_fails_it_at_once_even_while_others_run()
    {
        Assert.That(Check([4, 2]), Is.EqualTo(new DependencyGate.Failed(2, "dependency 2 failed (exit status 3)")));
        Assert.That(Check([3]), Is.EqualTo(new DependencyGate.Failed(3, "dependency 3 failed (it was canceled)")));
        Assert.That(((DependencyGate.Failed)Check([99])).Reason, Does.StartWith("dependency 99 failed"));
    }

    [Test]
    public void After_any_waits_for_an_end_however_it_ended()
    {
        Assert.That(Check([], [1, 2, 3, 99]), Is.TypeOf<DependencyGate.Ready>());
        Assert.That(Check([], [2, 4]), Is.EqualTo(new DependencyGate.Waiting(4)));
        Assert.That(Check([1], [5]), Is.EqualTo(new DependencyGate.Waiting(5)));
    }
}
