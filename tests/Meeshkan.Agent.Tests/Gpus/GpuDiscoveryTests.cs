using Meeshkan.Agent.Gpus;

namespace Meeshkan.Agent.Tests.Gpus;

/// <summary>nvidia-smi's CSV, and `setup --gpus auto|none|LIST` applied to it.</summary>
[TestFixture]
public sealed class GpuDiscoveryTests
{
    private const string FourGpus = """
        0, GPU-11111111-aaaa, NVIDIA A100-SXM4-40GB, 40960, 3
        1, GPU-22222222-bbbb, NVIDIA A100-SXM4-40GB, 40960, 12000
        2, GPU-33333333-cccc, Tesla V100, PCIe 16GB, 16384, 0
        3, GPU-44444444-dddd, NVIDIA GeForce RTX 4090, 24564, [N/A]

        """;

    [Test]
    public void Parses_each_gpu_and_skips_lines_it_cannot_read()
    {
        var gpus = NvidiaSmi.Parse(FourGpus);
        Assert.That(gpus.Select(g => g.Index), Is.EqualTo(new[] { 0, 1, 2 }), "the [N/A] line is left out: that GPU is not handed out");
        Assert.That(gpus[1], Is.EqualTo(new Gpu(1, "GPU-22222222-bbbb", "NVIDIA A100-SXM4-40GB", 40960, 12000)));
        Assert.That(gpus[2].Name, Is.EqualTo("Tesla V100, PCIe 16GB"), "a comma in the name stays in the name");
    }

    [Test]
    public void Nothing_parsable_is_no_gpus() =>
        Assert.That(NvidiaSmi.Parse("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.\n"), Is.Empty);

    [Test]
    public void Auto_takes_every_gpu_none_takes_none_and_a_list_takes_those_in_its_order()
    {
        var found = NvidiaSmi.Parse(FourGpus);
        Assert.That(GpuSelection.Apply(null, found), Has.Count.EqualTo(3));
        Assert.That(GpuSelection.Apply("auto", found), Has.Count.EqualTo(3));
        Assert.That(GpuSelection.Apply("none", found), Is.Empty);
        Assert.That(GpuSelection.Apply("2,0", found).Select(g => g.Index), Is.EqualTo(new[] { 2, 0 }));
        Assert.That(GpuSelection.Apply("2,7", found).Select(g => g.Index), Is.EqualTo(new[] { 2 }), "7 is not on this machine");
        Assert.That(GpuSelection.NotFound("2,7", found), Is.EqualTo(new[] { 7 }), "what setup refuses");
        Assert.That(GpuSelection.NotFound("auto", found), Is.Empty);
        Assert.That(GpuSelection.Apply("auto", null), Is.Empty, "no nvidia-smi: no GPUs");
        Assert.That(GpuSelection.Apply("0,1", null).Select(g => g.Index), Is.EqualTo(new[] { 0, 1 }), "no nvidia-smi: the user's word");
    }

    [TestCase("0, 1 ,3", "0,1,3")]
    [TestCase(" AUTO ", "auto")]
    [TestCase("None", "none")]
    public void Settings_are_stored_in_one_form(string given, string stored) =>
        Assert.That(GpuSelection.Normalize(given), Is.EqualTo(stored));

    [TestCase("all")]
    [TestCase("0,,1")]
    [TestCase("-1")]
    [TestCase("1,1")]
    public void Bad_settings_say_what_is_allowed(string given) =>
        Assert.That(() => GpuSelection.Normalize(given), Throws.TypeOf<FormatException>().With.Message.Contains("auto, none"));

    [Test]
    public void Query_without_nvidia_smi_on_the_path_finds_none()
    {
        var path = Environment.GetEnvironmentVariable("PATH");
        try
        {
            Environment.SetEnvironmentVariable("PATH", "/nonexistent");
            Assert.That(NvidiaSmi.Query(TimeSpan.FromSeconds(5)), Is.Null);
        }
        finally
        {
            Environment.SetEnvironmentVariable("PATH", path);
        }
    }
}
