using Meeshkan.Agent.Hosting;

namespace Meeshkan.Agent.Tests.Hosting;

/// <summary>The agent gives a burst's memory back once the burst is over, and never in the middle of one.</summary>
[TestFixture]
public sealed class MemoryTrimmerTests
{
    private const long MB = 1024 * 1024;

    [Test]
    public void A_burst_followed_by_a_quiet_second_is_trimmed()
    {
        Assert.That(MemoryTrimmer.ShouldTrim(allocated: 100 * MB, atLastTick: 100 * MB - 1000, atLastTrim: 10 * MB), Is.True);
    }

    [Test]
    public void An_agent_still_allocating_is_not_trimmed()
    {
        Assert.That(MemoryTrimmer.ShouldTrim(allocated: 100 * MB, atLastTick: 90 * MB, atLastTrim: 10 * MB), Is.False);
    }

    [Test]
    public void An_idle_agent_with_little_allocated_since_the_last_trim_is_left_alone()
    {
        Assert.That(MemoryTrimmer.ShouldTrim(allocated: 20 * MB, atLastTick: 20 * MB, atLastTrim: 10 * MB), Is.False);
    }

    [Test]
    public void A_collection_after_a_burst_returns_its_garbage_to_the_system()
    {
        // What the trimmer relies on: an aggressive collection decommits what a burst left behind.
        var keep = new List<byte[]>();
        for (var i = 0; i < 4000; i++)
        {
            keep.Add(new byte[16 * 1024]);
        }
        keep.Clear();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        Assert.That(GC.GetGCMemoryInfo().HeapSizeBytes, Is.LessThan(40 * MB));
    }
}
