using System.Globalization;
using System.Text.RegularExpressions;
using Meeshkan.Testing;

namespace Meeshkan.Cli.Tests.Output;

/// <summary>Issue 20, numbers and tables: what `report`, `--history`, `list` and `clear` print, read as a person would.</summary>
[TestFixture]
public sealed class ReadableOutputTests : SandboxFixture
{
    private long _numbers;

    [OneTimeSetUp]
    public void ReportNumbers()
    {
        Sandbox.WriteFile("report_values.py", """
            import meeshkan
            meeshkan.report_scalar("big", 499999.5, "integer", 1004999, "tiny", 8.86294e-06, "pi", 3.141592653589793)
            for step in range(5000):
                meeshkan.report_scalar("損失 (train)", 1000.0 + step / 7.0)
            """);
        _numbers = Sandbox.Submit("-n", "numbers", "report_values.py");
        Assert.That(Sandbox.WaitForEnd(_numbers).State, Is.EqualTo("FINISHED"), Sandbox.Run("logs", _numbers.ToString()).ToString());
    }

    [Test, Order(1)]
    public void Report_shows_each_value_exactly_as_reported()
    {
        var report = Sandbox.Ok("report", _numbers.ToString(CultureInfo.InvariantCulture));
        Assert.That(report, Does.Contain(" 499999.5 ").And.Contain(" 1004999 ").And.Contain(" 8.86294e-06 ").And.Contain(" 3.141592653589793 "));
        Assert.That(report, Does.Not.Contain("500000").And.Not.Contain("E+"));
    }

    [Test, Order(2)]
    public void History_shows_every_distinct_point_exactly_and_the_values_right_aligned()
    {
        var lines = Sandbox.Ok("report", _numbers.ToString(CultureInfo.InvariantCulture), "--history", "損失 (train)")
            .Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(5001));
        var values = lines.Skip(1).Select(l => Regex.Split(l.Trim(), " {2,}")[1]).ToList();
        Assert.That(values.Distinct().Count(), Is.EqualTo(5000), "5,000 distinct points read as 5,000 distinct values");
        for (var step = 0; step < 5000; step += 97)
        {
            Assert.That(double.Parse(values[step], CultureInfo.InvariantCulture), Is.EqualTo(1000.0 + step / 7.0), "round-trips exactly");
        }
        // Right-aligned: every value ends in the same terminal column (the header is two cells per CJK letter).
        var valueEnds = lines.Skip(1).Zip(values, (line, value) => Width(line[..(line.IndexOf(value, StringComparison.Ordinal) + value.Length)])).Distinct().ToList();
        Assert.That(valueEnds, Has.Count.EqualTo(1), "one end column for all values");
        Assert.That(valueEnds[0], Is.EqualTo(Width(lines[0][..(lines[0].IndexOf("(train)", StringComparison.Ordinal) + "(train)".Length)])),
            "the values end under the end of their header, counted in cells (損失 is four)");
    }

    [Test, Order(3)]
    public void List_aligns_columns_by_display_width_with_fullwidth_cjk_and_emoji_names()
    {
        string[] names = ["ｆｕｌｌｗｉｄｔｈ", "损失 (train)", "emoji 🚀 run", "plain"];
        var numbers = names.Select(n => Sandbox.Submit("-n", n, "true")).ToList();
        foreach (var n in numbers)
        {
            Sandbox.WaitForEnd(n);
        }
        var lines = Sandbox.Ok("list").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var rows = lines.Where(l => names.Any(l.Contains)).ToList();
        Assert.That(rows, Has.Count.EqualTo(names.Length));
        var statusColumn = rows.Select(l => Width(l[..l.IndexOf("FINISHED", StringComparison.Ordinal)])).Distinct().ToList();
        Assert.That(statusColumn, Has.Count.EqualTo(1), "STATUS starts in the same terminal column on every line:\n" + string.Join('\n', lines));
        Assert.That(statusColumn[0], Is.EqualTo(Width(lines[0][..lines[0].IndexOf("STATUS", StringComparison.Ordinal)])));
    }

    [Test, Order(4)]
    public void List_gives_a_short_job_a_duration_that_is_not_zero()
    {
        var number = Sandbox.Submit("-n", "quick", "true");
        Sandbox.WaitForEnd(number);
        var row = Sandbox.Ok("list").Split('\n').Single(l => l.Contains(" quick ", StringComparison.Ordinal));
        Assert.That(row, Does.Match(@"\s(\d+ms|<1ms|\d+\.\d+s)\s"), row);
        Assert.That(row, Does.Not.Contain(" 0.0s "));
    }

    // Last: it clears the jobs the others read.
    [Test, Order(5)]
    public void Clear_says_the_space_freed_in_human_units_and_y_skips_the_question()
    {
        var number = Sandbox.Submit("-n", "to-clear", "sh", "-c", "head -c 3000000 /dev/zero");
        Sandbox.WaitForEnd(number);
        var cleared = Sandbox.Ok("clear", "-y");
        Assert.That(cleared, Does.Match(@"Cleared \d+ ended job\(s\), 2\.\d MiB of logs and files\."), cleared);
        Assert.That(Sandbox.Job(number), Is.Null);
    }

    /// <summary>Terminal cells, as in the product: two for East Asian wide and fullwidth letters and for emoji.</summary>
    private static int Width(string text)
    {
        var width = 0;
        foreach (var rune in text.EnumerateRunes())
        {
            var c = rune.Value;
            width += c is >= 0x1100 and <= 0x115F or >= 0x2E80 and <= 0xA4CF or >= 0xAC00 and <= 0xD7A3 or >= 0xF900 and <= 0xFAFF
                or >= 0xFF00 and <= 0xFF60 or >= 0xFFE0 and <= 0xFFE6 or >= 0x1F300 and <= 0x1F64F or >= 0x1F680 and <= 0x1F6FF
                or >= 0x1F900 and <= 0x1F9FF or >= 0x20000 and <= 0x3FFFD ? 2 : 1;
        }
        return width;
    }
}
