using Meeshkan.Agent.Gpus;

namespace Meeshkan.Agent.Tests.Gpus;

/// <summary>--gpus and --gpu-ids as users type them.</summary>
[TestFixture]
public sealed class GpuAmountTests
{
    [TestCase("1", 4)]
    [TestCase("2", 8)]
    [TestCase("0", 0)]
    [TestCase("4.0", 16)]
    [TestCase("1/2", 2)]
    [TestCase("0.5", 2)]
    [TestCase("1/4", 1)]
    [TestCase(".25", 1)]
    public void Parses_whole_gpus_and_shares(string text, int quarters) =>
        Assert.That(GpuAmount.Parse(text).Quarters, Is.EqualTo(quarters));

    [TestCase("-1")]
    [TestCase("abc")]
    [TestCase("0.3")]
    [TestCase("0.75")]
    [TestCase("1.5")]
    [TestCase("")]
    [TestCase("99999999999")]
    public void Refuses_anything_else_saying_what_is_allowed(string text) =>
        Assert.That(() => GpuAmount.Parse(text), Throws.TypeOf<FormatException>().With.Message.Contains("1/2 or 1/4"));

    [Test]
    public void The_wire_value_round_trips()
    {
        foreach (var q in new[] { 0, 1, 2, 4, 8, 32 })
        {
            Assert.That(GpuAmount.FromValue(new GpuAmount(q).Value).Quarters, Is.EqualTo(q));
        }
        Assert.That(() => GpuAmount.FromValue(0.3), Throws.TypeOf<FormatException>());
        Assert.That(() => GpuAmount.FromValue(-1), Throws.TypeOf<FormatException>());
    }

    [Test]
    public void Gpu_ids_alone_ask_for_exactly_those_gpus_whole()
    {
        var request = GpuRequest.Of(null, GpuAmount.ParseIds("0,2", "--gpu-ids"));
        Assert.That(request.Amount.Quarters, Is.EqualTo(8));
        Assert.That(request.Ids, Is.EqualTo(new[] { 0, 2 }));
        Assert.That(GpuRequest.Of(GpuAmount.Parse("1/2"), [3]).Amount.Quarters, Is.EqualTo(2));
    }

    [Test]
    public void More_gpus_than_the_ids_name_is_refused()
    {
        Assert.That(() => GpuRequest.Of(GpuAmount.Parse("3"), [0, 1]), Throws.TypeOf<FormatException>().With.Message.Contains("names 2"));
        Assert.That(() => GpuRequest.Of(GpuAmount.Parse("0"), [0]), Throws.TypeOf<FormatException>());
        Assert.That(() => GpuAmount.ParseIds("0,x", "--gpu-ids"), Throws.TypeOf<FormatException>().With.Message.Contains("--gpu-ids"));
        Assert.That(() => GpuAmount.ParseIds("1,1", "--gpu-ids"), Throws.TypeOf<FormatException>().With.Message.Contains("twice"));
    }
}
