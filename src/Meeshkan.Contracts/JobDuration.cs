using System.Globalization;
using System.Text;

namespace Meeshkan;

/// <summary>
/// A duration as users write it on the command line: a number and a unit, <c>90s</c>, <c>45m</c>, <c>2h</c>,
/// <c>1d</c>, or several together, <c>1h30m</c> (a number may have decimals: <c>1.5h</c>). Used by
/// <c>submit --timeout</c> and <c>--retry-delay</c>, in whole seconds.
/// </summary>
public static class JobDuration
{
    /// <summary>The longest duration accepted.</summary>
    public static readonly TimeSpan Max = TimeSpan.FromDays(365);

    private const string Example = "write a number and a unit, e.g. 90s, 45m, 2h or 1d";

    /// <summary>Reads <paramref name="text"/>; <paramref name="problem"/> says what is wrong, for the user.</summary>
    /// <param name="text">The duration as written.</param>
    /// <param name="value">The duration, in whole seconds.</param>
    /// <param name="problem">Null, or why <paramref name="text"/> is not a duration (without the option's name).</param>
    /// <param name="allowZero">Whether <c>0s</c> is accepted (a retry delay may be zero; a timeout may not).</param>
    public static bool TryParse(string? text, out TimeSpan value, out string? problem, bool allowZero = false)
    {
        value = TimeSpan.Zero;
        var trimmed = (text ?? "").Trim();
        problem = Problem(trimmed, out var seconds);
        if (problem is null && seconds == 0 && !allowZero)
        {
            problem = $"`{trimmed}` is zero; it must be positive ({Example})";
        }
        if (problem is null && seconds > Max.TotalSeconds)
        {
            problem = $"`{trimmed}` is too long; at most {Format(Max)}";
        }
        if (problem is not null)
        {
            return false;
        }
        value = TimeSpan.FromSeconds(seconds);
        return true;
    }

    /// <summary>Reads a duration.</summary>
    /// <exception cref="FormatException">It is not one; the message says why, for the user.</exception>
    public static TimeSpan Parse(string text, bool allowZero = false) =>
        TryParse(text, out var value, out var problem, allowZero) ? value : throw new FormatException(problem);

    /// <summary>The duration as users write it, largest units first: <c>2h</c>, <c>1m30s</c>, <c>1d12h</c>, <c>0s</c>.</summary>
    public static string Format(TimeSpan duration)
    {
        var seconds = (long)Math.Round(duration.TotalSeconds);
        if (seconds <= 0)
        {
            return "0s";
        }
        var text = new StringBuilder();
        foreach (var (unit, size) in Units)
        {
            if (seconds >= size)
            {
                text.Append(CultureInfo.InvariantCulture, $"{seconds / size}{unit}");
                seconds %= size;
            }
        }
        return text.ToString();
    }

    /// <summary>The duration in Slurm's <c>--time</c> form, <c>D-HH:MM:SS</c>.</summary>
    public static string ToSlurmTime(TimeSpan duration)
    {
        var seconds = (long)Math.Ceiling(duration.TotalSeconds);
        return string.Create(CultureInfo.InvariantCulture,
            $"{seconds / 86400}-{seconds / 3600 % 24:00}:{seconds / 60 % 60:00}:{seconds % 60:00}");
    }

    private static readonly (char Unit, long Seconds)[] Units = [('d', 86400), ('h', 3600), ('m', 60), ('s', 1)];

    private static string? Problem(string text, out long seconds)
    {
        seconds = 0;
        if (text.Length == 0)
        {
            return $"the duration is empty; {Example}";
        }
        if (text.StartsWith('-'))
        {
            return $"`{text}` is negative; it must be positive ({Example})";
        }
        double total = 0;
        var seen = new HashSet<char>();
        var i = 0;
        while (i < text.Length)
        {
            var start = i;
            while (i < text.Length && (char.IsAsciiDigit(text[i]) || text[i] == '.'))
            {
                i++;
            }
            if (i == start || !double.TryParse(text.AsSpan(start, i - start), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
            {
                return $"`{text}` is not a duration; {Example}";
            }
            if (i == text.Length)
            {
                return $"`{text}` has no unit; write {text[start..]}s, {text[start..]}m, {text[start..]}h or {text[start..]}d";
            }
            var unit = char.ToLowerInvariant(text[i]);
            var size = Array.FindIndex(Units, u => u.Unit == unit);
            if (size < 0)
            {
                return $"`{text}` has an unknown unit '{text[i]}'; use s, m, h or d ({Example})";
            }
            if (!seen.Add(unit))
            {
                return $"`{text}` gives '{unit}' twice; {Example}";
            }
            total += number * Units[size].Seconds;
            i++;
        }
        if (total > Max.TotalSeconds * 2)
        {
            seconds = long.MaxValue;
            return null;
        }
        seconds = (long)Math.Round(total);
        if (seconds == 0 && total > 0)
        {
            return $"`{text}` is shorter than a second; use at least 1s";
        }
        return null;
    }
}
