using System.Text;

namespace Meeshkan.Cli.Output;

/// <summary>Left-aligned columns separated by two spaces: readable in a terminal, easy for `grep` and `awk`.</summary>
internal sealed class TextTable(params string[] headers)
{
    private const string Gap = "  ";
    private readonly List<string[]> _rows = [];

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

    private void Write(TextWriter output)
    {
        var widths = new int[headers.Length];
        foreach (var row in _rows.Prepend(headers))
        {
            for (var i = 0; i < row.Length; i++)
            {
                widths[i] = Math.Max(widths[i], row[i].Length);
            }
        }
        var spaces = new string(' ', widths.Length == 0 ? 0 : widths.Max());
        foreach (var row in _rows.Prepend(headers))
        {
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
                var cell = i == last ? row[i].AsSpan().TrimEnd() : row[i].AsSpan();
                output.Write(cell);
                if (i < last)
                {
                    output.Write(spaces.AsSpan(0, widths[i] - row[i].Length));
                }
            }
            output.Write('\n');
        }
    }
}
