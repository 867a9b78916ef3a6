using Meeshkan.Agent.Gpus;

namespace Meeshkan.Agent.Tests.Gpus;

/// <summary>Handing out whole GPUs and shares: never one GPU twice, small jobs packed, a foreign-busy GPU left alone.</summary>
[TestFixture]
public sealed class GpuInventoryTests
{
    private static GpuInventory Four(params int[] order) =>
        new((order.Length == 0 ? [0, 1, 2, 3] : order).Select(i => new Gpu(i, $"GPU-{i}", "Fake", 16000, 0)));

    private static GpuRequest Whole(int n) => new(new GpuAmount(n * 4));

    private static GpuRequest Share(int quarters) => new(new GpuAmount(quarters));

    [Test]
    public void Whole_gpus_go_in_the_order_of_preference_and_never_twice()
    {
        var gpus = Four(3, 1, 0, 2);
        Assert.That(gpus.Fit(Whole(2)), Is.EqualTo(new[] { 3, 1 }));
        gpus.Take(1, new GpuAmount(8), [3, 1]);
        Assert.That(gpus.Fit(Whole(2)), Is.EqualTo(new[] { 0, 2 }));
        gpus.Take(2, new GpuAmount(8), [0, 2]);
        Assert.That(gpus.Fit(Whole(1)), Is.Null);
        Assert.That(gpus.Fit(Share(1)), Is.Null, "a share never goes on a GPU a whole job holds");
        Assert.That(() => gpus.Take(3, new GpuAmount(4), [3]), Throws.InvalidOperationException);
        gpus.Release(1);
        Assert.That(gpus.Fit(Whole(2)), Is.EqualTo(new[] { 3, 1 }));
    }

    [Test]
    public void Shares_pack_onto_one_gpu_before_opening_the_next()
    {
        var gpus = Four();
        var number = 0L;
        foreach (var expected in new[] { 0, 0, 0, 0, 1 })
        {
            var fit = gpus.Fit(Share(1))!;
            Assert.That(fit, Is.EqualTo(new[] { expected }));
            gpus.Take(++number, new GpuAmount(1), fit);
        }
        Assert.That(gpus.Fit(Share(2)), Is.EqualTo(new[] { 1 }), "best fit: the half goes where a quarter already is");
        Assert.That(gpus.Fit(Whole(3)), Is.Null, "only GPUs 2 and 3 are whole");
        Assert.That(gpus.Fit(Whole(2)), Is.EqualTo(new[] { 2, 3 }));
        Assert.That(gpus.Holders(0), Has.Count.EqualTo(4));
    }

    [Test]
    public void Requested_ids_are_kept_to()
    {
        var gpus = Four();
        var request = GpuRequest.Of(null, [2]);
        Assert.That(gpus.Fit(request), Is.EqualTo(new[] { 2 }));
        gpus.Take(1, request.Amount, [2]);
        Assert.That(gpus.Fit(request), Is.Null, "GPU 2 is taken; others do not count");
        Assert.That(gpus.Fit(GpuRequest.Of(new GpuAmount(4), [2, 3])), Is.EqualTo(new[] { 3 }));
    }

    [Test]
    public void A_gpu_busy_with_a_foreign_process_is_not_handed_out_until_it_frees()
    {
        var gpus = Four();
        var reading = new[] { new Gpu(0, "GPU-0", "Fake", 16000, 9000), new Gpu(1, "GPU-1", "Fake", 16000, 100) };
        Assert.That(gpus.Observe(reading, 500), Is.True);
        Assert.That(gpus.IsForeignBusy(0), Is.True);
        Assert.That(gpus.Fit(Whole(1)), Is.EqualTo(new[] { 1 }));
        Assert.That(gpus.Fit(Share(1)), Is.EqualTo(new[] { 1 }));
        Assert.That(gpus.Fit(GpuRequest.Of(null, [0])), Is.Null);
        Assert.That(gpus.Observe([new Gpu(0, "GPU-0", "Fake", 16000, 10)], 500), Is.True, "freed");
        Assert.That(gpus.Fit(GpuRequest.Of(null, [0])), Is.EqualTo(new[] { 0 }));
    }

    [Test]
    public void A_gpu_one_of_our_jobs_holds_is_not_called_busy_for_its_memory()
    {
        var gpus = Four();
        gpus.Take(7, new GpuAmount(1), [0]);
        gpus.Observe([new Gpu(0, "GPU-0", "Fake", 16000, 12000)], 500);
        Assert.That(gpus.IsForeignBusy(0), Is.False);
        Assert.That(gpus.Fit(Share(1)), Is.EqualTo(new[] { 0 }), "the rest of it is still shared out");
    }

    [Test]
    public void Requests_beyond_the_machine_are_impossible_and_say_so()
    {
        var gpus = Four();
        Assert.That(gpus.Impossible(Whole(4)), Is.Null);
        Assert.That(gpus.Impossible(Whole(5)), Does.Contain("more than the 4 GPUs"));
        Assert.That(gpus.Impossible(GpuRequest.Of(null, [9])), Does.Contain("--gpu-ids 9"));
        Assert.That(GpuInventory.Empty.Impossible(Share(1)), Does.Contain("no GPUs"));
        Assert.That(GpuInventory.Empty.Impossible(GpuRequest.None), Is.Null);
    }

    [Test]
    public void Restored_holders_count_as_taken()
    {
        var gpus = Four();
        gpus.Restore(5, new GpuAmount(2), [1]);
        gpus.Restore(6, new GpuAmount(4), [0]);
        gpus.Restore(6, new GpuAmount(4), [9]);
        Assert.That(gpus.FreeQuarters(1), Is.EqualTo(2));
        Assert.That(gpus.Fit(Whole(3)), Is.Null);
        Assert.That(gpus.Fit(Whole(2)), Is.EqualTo(new[] { 2, 3 }));
    }
}
