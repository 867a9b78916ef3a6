using System.Globalization;

namespace Meeshkan;

/// <summary>Durations and sizes as people say them: one form in the CLI's tables and in notifications alike.</summary>
internal static class HumanText
{
    /// <summary>
    /// 0.4 ms reads "&lt;1ms", 40 ms "40ms", 12.3 s "12.3s", then "4m05s", "2h03m", "3d04h": never "0.0s" for a job that
    /// did run.
    /// </summary>
    public static string Duration(TimeSpan span)
    {
        if (span < TimeSpan.Zero)
        {
            span = TimeSpan.Zero;
        }
        return span.TotalMilliseconds < 1 ? (span == TimeSpan.Zero ? "0s" : "<1ms")
            : span.TotalSeconds < 1 ? $"{(int)span.TotalMilliseconds}ms"
            : span.TotalSeconds < 60 ? (Math.Floor(span.TotalSeconds * 10) / 10).ToString("0.0", CultureInfo.InvariantCulture) + "s"
            : span.TotalHours < 1 ? $"{(int)span.TotalMinutes}m{span.Seconds:00}s"
            : span.TotalDays < 1 ? $"{(int)span.TotalHours}h{span.Minutes:00}m"
            : $"{(int)span.TotalDays}d{span.Hours:00}h";
    }

    /// <summary>"45%, 5.0s left" (tqdm's progress and remaining time), "45%" without a time left; null without a percent.</summary>
    public static string? Progress(double? percent, double? secondsLeft)
    {
        if (percent is not { } p || !double.IsFinite(p))
        {
            return null;
        }
        var text = Math.Floor(p).ToString("0", CultureInfo.InvariantCulture) + "%";
        return secondsLeft is { } left && double.IsFinite(left) && left is >= 0 and < 1e9
            ? $"{text}, {Duration(TimeSpan.FromSeconds(left))} left"
            : text;
    }

    /// <summary>Bytes in the largest unit that keeps the number at or above 1: "512 B", "4.0 KiB", "197.6 MiB", "1.2 GiB".</summary>
    public static string Bytes(long bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        if (bytes < 1024)
        {
            return bytes.ToString(CultureInfo.InvariantCulture) + " B";
        }
        double value = bytes;
        var unit = 0;
        while (value >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }
        return value.ToString("0.0", CultureInfo.InvariantCulture) + " " + units[unit];
    }
}
