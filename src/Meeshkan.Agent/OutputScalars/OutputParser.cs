using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Meeshkan.Agent.OutputScalars;

/// <summary>One scalar read from a line of output; <see cref="Step"/> is null when the line names none.</summary>
public readonly record struct OutputScalar(string Name, double Value, long? Step);

/// <summary>
/// Reads scalars from one line of a job's output (the bytes between two <c>\n</c> or <c>\r</c>). The default patterns:
/// <c>name: value</c>, <c>name=value</c>, <c>name: value (step N)</c>, several per line, values including nan and inf;
/// and tqdm progress (<c>NN%|</c> gives <c>progress</c> in percent, <c>[elapsed&lt;remaining, rate]</c> gives
/// <c>eta seconds</c>). Or the user's regular expression with named groups <c>value</c>, <c>name</c>, <c>step</c>.
/// Lines are bytes: anything that is not ASCII is simply not part of a name or a value.
/// </summary>
public sealed class OutputParser
{
    public const string ProgressName = "progress";
    public const string EtaName = "eta seconds";
    public const string PatternOption = "--scalar-pattern";
    private const int MaxNameLength = 128;

    private readonly Regex? _pattern;
    // Names seen before, by their bytes: no string is allocated for a name already known.
    private readonly Dictionary<int, string> _names = [];

    private OutputParser(Regex? pattern) => _pattern = pattern;

    /// <summary>What a job stores of submit's options (<see cref="Store.JobRecord.ScalarPattern"/>): null when its output is
    /// not read, "" for the default patterns, else the user's pattern, checked (see <see cref="FromPattern"/>).</summary>
    public static string? Option(bool fromOutput, string? pattern)
    {
        if (!string.IsNullOrEmpty(pattern))
        {
            FromPattern(pattern);
            return pattern;
        }
        return fromOutput ? "" : null;
    }

    /// <summary>
    /// The user's pattern; <see cref="Jobs.InvalidRequestException"/> with the regex error, or saying that <c>value</c>
    /// is missing. Its message starts with <c>--scalar-pattern</c>: the CLI calls it a usage mistake (exit 2).
    /// </summary>
    public static OutputParser FromPattern(string pattern)
    {
        Regex regex;
        try
        {
            regex = new Regex(pattern, RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(100));
        }
        catch (ArgumentException e)
        {
            throw new Jobs.InvalidRequestException($"{PatternOption} does not compile: {e.Message}");
        }
        if (!regex.GetGroupNames().Contains("value"))
        {
            throw new Jobs.InvalidRequestException(
                $"{PatternOption} needs a named group `value`, e.g. '(?<name>\\w+) is (?<value>[-+.\\deE]+|nan|inf)'");
        }
        return new OutputParser(regex);
    }

    /// <summary>A parser of its own for one job (it caches names): the default patterns, or <paramref name="pattern"/>.</summary>
    public static OutputParser Create(string? pattern) => string.IsNullOrEmpty(pattern) ? new(null) : FromPattern(pattern);

    /// <summary>Adds the line's scalars to <paramref name="found"/>.</summary>
    public void Parse(ReadOnlySpan<byte> line, List<OutputScalar> found)
    {
        if (_pattern is not null)
        {
            ParseWithPattern(line, found);
            return;
        }
        // Most lines have neither a separator nor a percent sign: one vectorised search rejects them.
        if (line.IndexOfAny((byte)':', (byte)'=', (byte)'%') < 0)
        {
            return;
        }
        for (var i = line.IndexOfAny((byte)':', (byte)'='); i >= 0;)
        {
            TryPair(line, i, found);
            var next = line[(i + 1)..].IndexOfAny((byte)':', (byte)'=');
            i = next < 0 ? -1 : i + 1 + next;
        }
        TryProgress(line, found);
    }

    private void TryPair(ReadOnlySpan<byte> line, int separator, List<OutputScalar> found)
    {
        var nameEnd = separator;
        while (nameEnd > 0 && line[nameEnd - 1] == (byte)' ')
        {
            nameEnd--; // `name = value`
        }
        var start = nameEnd;
        while (start > 0 && IsNameByte(line[start - 1]))
        {
            start--;
        }
        if (start == nameEnd || nameEnd - start > MaxNameLength || !IsLetter(line[start]))
        {
            return;
        }
        var at = separator + 1;
        while (at < line.Length && line[at] == (byte)' ')
        {
            at++;
        }
        if (!TryNumber(line, ref at, out var value))
        {
            return;
        }
        long? step = null;
        var after = at;
        while (after < line.Length && line[after] == (byte)' ')
        {
            after++;
        }
        if (line[after..].StartsWith("(step "u8))
        {
            var digits = after + 6;
            var end = digits;
            while (end < line.Length && line[end] is >= (byte)'0' and <= (byte)'9')
            {
                end++;
            }
            if (end > digits && end < line.Length && line[end] == (byte)')'
                && long.TryParse(line[digits..end], NumberStyles.None, CultureInfo.InvariantCulture, out var n))
            {
                step = n;
            }
        }
        found.Add(new OutputScalar(Name(line[start..nameEnd]), value, step));
    }

    /// <summary>A number at <paramref name="at"/> that ends the word (followed by the end, a space, or , ; ) ] |).</summary>
    private static bool TryNumber(ReadOnlySpan<byte> line, ref int at, out double value)
    {
        var end = at;
        while (end < line.Length && line[end] is (byte)'+' or (byte)'-' or (byte)'.' or (byte)'e' or (byte)'E'
                   or >= (byte)'0' and <= (byte)'9' or (byte)'n' or (byte)'a' or (byte)'N' or (byte)'A' or (byte)'i' or (byte)'I'
                   or (byte)'f' or (byte)'F' or (byte)'t' or (byte)'y' or (byte)'T' or (byte)'Y')
        {
            end++;
        }
        value = 0;
        if (end == at || (end < line.Length && line[end] is not ((byte)' ' or (byte)',' or (byte)';' or (byte)')' or (byte)']' or (byte)'|' or (byte)'\t')))
        {
            return false;
        }
        var word = line[at..end];
        if (!double.TryParse(word, NumberStyles.Float, CultureInfo.InvariantCulture, out value))
        {
            if (Ascii.EqualsIgnoreCase(word, "nan"u8) || Ascii.EqualsIgnoreCase(word, "+nan"u8) || Ascii.EqualsIgnoreCase(word, "-nan"u8))
            {
                value = double.NaN;
            }
            else if (Ascii.EqualsIgnoreCase(word, "inf"u8) || Ascii.EqualsIgnoreCase(word, "+inf"u8) || Ascii.EqualsIgnoreCase(word, "infinity"u8))
            {
                value = double.PositiveInfinity;
            }
            else if (Ascii.EqualsIgnoreCase(word, "-inf"u8) || Ascii.EqualsIgnoreCase(word, "-infinity"u8))
            {
                value = double.NegativeInfinity;
            }
            else
            {
                return false;
            }
        }
        at = end;
        return true;
    }

    /// <summary>tqdm: <c> 45%|█████     | 45/100 [00:04&lt;00:05, 9.87it/s]</c>.</summary>
    private static void TryProgress(ReadOnlySpan<byte> line, List<OutputScalar> found)
    {
        var bar = line.IndexOf("%|"u8);
        if (bar <= 0)
        {
            return;
        }
        var start = bar;
        while (start > 0 && line[start - 1] is >= (byte)'0' and <= (byte)'9' or (byte)'.')
        {
            start--;
        }
        if (start == bar || !double.TryParse(line[start..bar], NumberStyles.Float, CultureInfo.InvariantCulture, out var percent))
        {
            return;
        }
        found.Add(new OutputScalar(ProgressName, percent, null));
        var open = line[bar..].IndexOf((byte)'[');
        if (open < 0)
        {
            return;
        }
        var rest = line[(bar + open + 1)..];
        var less = rest.IndexOf((byte)'<');
        var comma = rest.IndexOfAny((byte)',', (byte)']');
        if (less > 0 && comma > less && Duration(rest[(less + 1)..comma]) is { } remaining)
        {
            found.Add(new OutputScalar(EtaName, remaining, null));
        }
    }

    /// <summary>tqdm's <c>MM:SS</c> or <c>H:MM:SS</c> (or <c>D days, H:MM:SS</c> is left out); null for <c>?</c>.</summary>
    private static double? Duration(ReadOnlySpan<byte> text)
    {
        double total = 0;
        var parts = 0;
        foreach (var range in text.Split((byte)':'))
        {
            if (!int.TryParse(text[range], NumberStyles.None, CultureInfo.InvariantCulture, out var part))
            {
                return null;
            }
            total = total * 60 + part;
            parts++;
        }
        return parts is 2 or 3 ? total : null;
    }

    private void ParseWithPattern(ReadOnlySpan<byte> line, List<OutputScalar> found)
    {
        var text = Encoding.UTF8.GetString(line);
        try
        {
            foreach (Match match in _pattern!.Matches(text))
            {
                var valueText = match.Groups["value"].Value.Trim();
                var bytes = Encoding.ASCII.GetBytes(valueText);
                var at = 0;
                if (!TryNumber(bytes, ref at, out var value) || at != bytes.Length)
                {
                    continue;
                }
                var name = match.Groups["name"] is { Success: true, Value.Length: > 0 } n ? n.Value.Trim() : "value";
                long? step = match.Groups["step"] is { Success: true } s
                    && long.TryParse(s.Value.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed) ? parsed : null;
                found.Add(new OutputScalar(name, value, step));
            }
        }
        catch (RegexMatchTimeoutException)
        {
            // A pattern that backtracks for too long on one line skips that line.
        }
    }

    private string Name(ReadOnlySpan<byte> bytes)
    {
        var key = bytes.Length;
        foreach (var b in bytes)
        {
            key = (key * 31) + b;
        }
        if (_names.TryGetValue(key, out var known) && Ascii.Equals(bytes, known))
        {
            return known;
        }
        var name = Encoding.ASCII.GetString(bytes);
        _names[key] = name;
        return name;
    }

    private static bool IsLetter(byte b) => b is >= (byte)'a' and <= (byte)'z' or >= (byte)'A' and <= (byte)'Z' or (byte)'_';

    private static bool IsNameByte(byte b) => IsLetter(b) || b is >= (byte)'0' and <= (byte)'9' or (byte)'.' or (byte)'-' or (byte)'/';
}
