using System.Text;

namespace Meeshkan.Cli.Output;

/// <summary>
/// Left-aligned columns separated by two spaces (numbers right-aligned where asked): readable in a terminal, easy for
/// `grep` and `awk`. Columns line up by the width a terminal gives each character (CJK and fullwidth letters and most
/// emoji take two cells, combining marks none), not by the count of UTF-16 code units.
/// </summary>
internal sealed class TextTable(params string[] headers)
{
    private const string Gap = "  ";
    private readonly List<string[]> _rows = [];

    /// <summary>Columns (by index) whose cells are aligned to the right: numbers, so that their digits line up.</summary>
    public int[] RightAligned { get; init; } = [];

    public void Add(params string[] cells) => _rows.Add(cells);

    /// <summary>
    /// Writes the table to stdout through one large buffer, cell by cell: a `list` of 10,000 jobs builds no line
    /// strings, and Console.Out (which flushes every 256 characters) would make thousands of system calls.
    /// </summary>
    public void Print()
    {
        Console.Out.Flush();
        using var stdout = new StreamWriter(Console.OpenStandardOutput(), new UTF8Encoding(false), 1 << 16);
        Write(stdout);
    }

    public override string ToString()
    {
        using var text = new StringWriter();
        Write(text);
        return text.ToString();
    }

    /// <summary>The number of terminal cells <paramref name="text"/> takes.</summary>
    public static int DisplayWidth(ReadOnlySpan<char> text)
    {
        // Plain ASCII and Latin (the usual case, and all of `list` but names) is one cell per character.
        var i = 0;
        while (i < text.Length && text[i] is >= ' ' and < '\u0300')
        {
            i++;
        }
        if (i == text.Length)
        {
            return i;
        }
        var width = i;
        foreach (var rune in text[i..].EnumerateRunes())
        {
            width += DisplayWidth(rune);
        }
        return width;
    }

    /// <summary>The number of terminal cells one character takes (0 for control characters and combining marks).</summary>
    public static int DisplayWidth(System.Text.Rune rune) =>
        rune.Value is >= 0x20 and < 0x300 ? 1 : Math.Max(Wcwidth.UnicodeCalculator.GetWidth(rune.Value), 0);

    private void Write(TextWriter output)
    {
        var right = new bool[headers.Length];
        foreach (var column in RightAligned)
        {
            right[column] = true;
        }
        var cellWidths = new List<int[]>(_rows.Count + 1);
        var widths = new int[headers.Length];
        foreach (var row in _rows.Prepend(headers))
        {
            var rowWidths = new int[row.Length];
            for (var i = 0; i < row.Length; i++)
            {
                rowWidths[i] = DisplayWidth(row[i]);
                widths[i] = Math.Max(widths[i], rowWidths[i]);
            }
            cellWidths.Add(rowWidths);
        }
        var spaces = new string(' ', widths.Length == 0 ? 0 : widths.Max());
        var r = 0;
        foreach (var row in _rows.Prepend(headers))
        {
            var rowWidths = cellWidths[r++];
            // Trailing empty cells and the padding before them are left out, as the trimmed line would be.
            var last = row.Length - 1;
            while (last > 0 && row[last].Length == 0)
            {
                last--;
            }
            for (var i = 0; i <= last; i++)
            {
                if (i > 0)
                {
                    output.Write(Gap);
                }
                var padding = spaces.AsSpan(0, widths[i] - rowWidths[i]);
                if (right[i])
                {
                    output.Write(padding);
                    output.Write(row[i]);
                    continue;
                }
                var cell = i == last ? row[i].AsSpan().TrimEnd() : row[i].AsSpan();
                output.Write(cell);
                if (i < last)
                {
                    output.Write(padding);
                }
            }
            output.Write('\n');
        }
    }
}
