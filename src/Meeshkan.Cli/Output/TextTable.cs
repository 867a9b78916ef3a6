using System.Text;

namespace Meeshkan.Cli.Output;

/// <summary>Left-aligned columns separated by two spaces: readable in a terminal, easy for `grep` and `awk`.</summary>
internal sealed class TextTable(params string[] headers)
{
    private readonly List<string[]> _rows = [];

    public void Add(params string[] cells) => _rows.Add(cells);

    public override string ToString()
    {
        var widths = headers.Select((h, i) => _rows.Select(r => r[i].Length).Append(h.Length).Max()).ToArray();
        var text = new StringBuilder();
        foreach (var row in _rows.Prepend(headers))
        {
            var line = string.Join("  ", row.Select((cell, i) => i == row.Length - 1 ? cell : cell.PadRight(widths[i])));
            text.Append(line.TrimEnd()).Append('\n');
        }
        return text.ToString();
    }
}
