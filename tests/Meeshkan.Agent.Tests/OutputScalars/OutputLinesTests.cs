using System.Text;
using Meeshkan.Agent.OutputScalars;

namespace Meeshkan.Agent.Tests.OutputScalars;

/// <summary>Output cut into lines however it is read: the offset of the last whole line is where a next agent goes on.</summary>
public sealed class OutputLinesTests
{
    [Test]
    public void Lines_split_across_reads_at_newline_and_carriage_return_give_the_same_scalars_and_offsets()
    {
        var output = Encoding.ASCII.GetBytes("loss: 1\n 50%|##  | 1/2 [00:01<00:01, 1.0it/s]\rloss: 2\nacc=0.5 (unfinished");
        var whole = Run(output, output.Length);
        foreach (var size in new[] { 1, 3, 7, 64 })
        {
            Assert.That(Run(output, size), Is.EqualTo(whole), $"reads of {size} bytes");
        }
        Assert.That(whole.Found, Is.EqualTo(new[]
        {
            new OutputScalar("loss", 1, null), new OutputScalar("progress", 50, null), new OutputScalar("eta seconds", 1, null),
            new OutputScalar("loss", 2, null),
        }));
        Assert.That(whole.Consumed, Is.EqualTo(output.Length - "acc=0.5 (unfinished".Length), "the unfinished line is not consumed");
    }

    [Test]
    public void The_end_of_the_output_ends_the_last_line_and_a_start_offset_counts_on_from_there()
    {
        var lines = new OutputLines(OutputParser.Create(null), start: 1000);
        var found = new List<OutputScalar>();
        lines.Feed("x: 1\nloss: 3"u8, found);
        Assert.That(lines.Consumed, Is.EqualTo(1005));
        lines.End(found);
        Assert.That(found, Is.EqualTo(new[] { new OutputScalar("x", 1, null), new OutputScalar("loss", 3, null) }));
        Assert.That(lines.Consumed, Is.EqualTo(1012));
    }

    [Test]
    public void A_line_longer_than_the_limit_is_parsed_on_its_first_bytes_and_counted_whole()
    {
        var lines = new OutputLines(OutputParser.Create(null));
        var found = new List<OutputScalar>();
        var head = "loss: 7 "u8.ToArray();
        var filler = new byte[OutputLines.MaxLineBytes];
        Array.Fill(filler, (byte)'x');
        lines.Feed(head, found);
        lines.Feed(filler, found);
        lines.Feed(filler, found);
        lines.Feed("acc=1\n"u8, found);
        Assert.That(found, Is.EqualTo(new[] { new OutputScalar("loss", 7, null) }), "the part past the limit is not read");
        Assert.That(lines.Consumed, Is.EqualTo(head.Length + 2L * filler.Length + 6));
    }

    private static (List<OutputScalar> Found, long Consumed) Run(byte[] output, int readSize)
    {
        var lines = new OutputLines(OutputParser.Create(null));
        var found = new List<OutputScalar>();
        for (var at = 0; at < output.Length; at += readSize)
        {
            lines.Feed(output.AsSpan(at, Math.Min(readSize, output.Length - at)), found);
        }
        return (found, lines.Consumed);
    }
}
