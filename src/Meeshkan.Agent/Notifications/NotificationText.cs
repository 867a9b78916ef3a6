using System.Globalization;
using System.Text;
using Meeshkan.Agent.OutputScalars;
using Meeshkan.V1;

namespace Meeshkan.Agent.Notifications;

/// <summary>The one place that words a notification: title, one-line summary, fields and the scalar table.</summary>
public static class NotificationText
{
    /// <summary>Scalars listed in a message; the chart still shows every one of them.</summary>
    public const int MaxScalarRows = 25;

    public static string Title(Notification n)
    {
        var job = n.Job is { } j ? $"Job {j.Number} ({j.Name})" : "Meeshkan";
        return n.Event switch
        {
            NotificationEvent.JobStarted => $"{job} started",
            NotificationEvent.JobFinished => $"{job} finished",
            NotificationEvent.JobFailed => $"{job} failed",
            NotificationEvent.JobCanceled => $"{job} was canceled",
            NotificationEvent.IntervalReport => $"{job}: progress report",
            NotificationEvent.ConditionMet => $"{job}: condition met",
            NotificationEvent.Custom => $"{job}: message",
            NotificationEvent.Test => "Meeshkan test notification",
            NotificationEvent.AttemptFailed => $"{job}: attempt failed, retrying",
            _ => job,
        };
    }

    /// <summary>" on GPUs 0,1" for a job that holds GPUs.</summary>
    private static string OnGpus(Store.JobRecord? job) => job?.Gpus switch
    {
        [var one] => $" on GPU {one}",
        { Count: > 1 } gpus => $" on GPUs {string.Join(',', gpus)}",
        _ => "",
    };

    /// <summary>"45%, 5.0s left" from the scalars `progress` and `eta seconds` (tqdm bars in the output), or null.</summary>
    private static string? Progress(Notification n) => HumanText.Progress(
        n.Scalars.FirstOrDefault(s => s.Name == OutputParser.ProgressName)?.Value,
        n.Scalars.FirstOrDefault(s => s.Name == OutputParser.EtaName)?.Value);

    /// <summary>One line: what happened, for the history, Slack's fallback text and the email subject.</summary>
    public static string Summary(Notification n)
    {
        var job = n.Job;
        switch (n.Event)
        {
            case NotificationEvent.JobStarted:
                return $"started on {n.Host}{OnGpus(job)}: {Command(job)}";
            case NotificationEvent.JobFinished:
                return $"finished in {Duration(job)}, exit status 0";
            case NotificationEvent.JobFailed:
                return $"failed after {Duration(job)}: {job?.FailureReason ?? ExitStatus(job)}";
            case NotificationEvent.JobCanceled:
                return $"canceled after {Duration(job)}";
            case NotificationEvent.IntervalReport when Progress(n) is { } progress:
                // tqdm's progress and time left first ("45%, 5.0s left"), then the job's other scalars.
                var others = n.Scalars.Where(s => s.Name is not (OutputParser.ProgressName or OutputParser.EtaName)).ToList();
                return others.Count == 0 ? progress
                    : $"{progress}; " + string.Join(", ", others.Take(5).Select(s => $"{s.Name} {Number(s.Value)}{(s.Change is { } c ? $" ({Change(c)})" : "")}"))
                        + (others.Count > 5 ? $", and {others.Count - 5} more" : "");
            case NotificationEvent.IntervalReport:
                return string.Join(", ", n.Scalars.Take(5).Select(s => $"{s.Name} {Number(s.Value)}{(s.Change is { } c ? $" ({Change(c)})" : "")}"))
                    + (n.Scalars.Count > 5 ? $", and {n.Scalars.Count - 5} more" : "");
            case NotificationEvent.ConditionMet when n.Condition is { } condition:
                return $"{condition.Description}: " + string.Join(", ", condition.Values.OrderBy(v => v.Key, StringComparer.Ordinal).Select(v => $"{v.Key} = {Number(v.Value)}"));
            default:
                return n.Message ?? "";
        }
    }

    /// <summary>Labelled facts about the job, in display order.</summary>
    public static IReadOnlyList<(string Label, string Value)> Fields(Notification n)
    {
        var fields = new List<(string, string)>();
        if (n.Job is not { } job)
        {
            fields.Add(("Host", n.Host));
            return fields;
        }
        fields.Add(("Job", $"{job.Number} ({job.Name})"));
        switch (n.Event)
        {
            case NotificationEvent.JobStarted:
                fields.Add(("Command", Command(job)));
                fields.Add(("Directory", job.WorkingDirectory));
                if (job.Gpus is { Count: > 0 } gpus)
                {
                    fields.Add(("GPUs", string.Join(',', gpus)));
                }
                break;
            case NotificationEvent.JobFinished or NotificationEvent.JobFailed or NotificationEvent.JobCanceled:
                fields.Add(("Duration", Duration(job)));
                fields.Add(("Exit status", ExitStatus(job)));
                if (n.Event == NotificationEvent.JobFailed && !string.IsNullOrEmpty(job.FailureReason))
                {
                    fields.Add(("Reason", job.FailureReason));
                }
                break;
            case NotificationEvent.ConditionMet when n.Condition is { } condition:
                fields.Add(("Condition", condition.Description));
                break;
            case NotificationEvent.IntervalReport when Progress(n) is { } progress:
                fields.Add(("Progress", progress));
                break;
        }
        fields.Add(("Host", n.Host));
        return fields;
    }

    /// <summary>The scalars as an aligned plain-text table (for monospace blocks).</summary>
    public static string ScalarTable(IReadOnlyList<ScalarLine> scalars)
    {
        var rows = scalars.Take(MaxScalarRows).Select(s => new[]
        {
            s.Name, Number(s.Value), s.Change is { } c ? Change(c) : "", s.Step.ToString(CultureInfo.InvariantCulture),
        }).ToList();
        rows.Insert(0, ["scalar", "value", "change", "step"]);
        var widths = Enumerable.Range(0, 4).Select(i => rows.Max(r => r[i].Length)).ToArray();
        var text = new StringBuilder();
        foreach (var row in rows)
        {
            text.Append(row[0].PadRight(widths[0])).Append("  ").Append(row[1].PadLeft(widths[1])).Append("  ")
                .Append(row[2].PadLeft(widths[2])).Append("  ").Append(row[3].PadLeft(widths[3]));
            text.Append('\n');
        }
        if (scalars.Count > MaxScalarRows)
        {
            text.Append($"… and {scalars.Count - MaxScalarRows} more (see the chart or `meeshkan report`)\n");
        }
        return text.ToString().TrimEnd('\n');
    }

    public static string Command(Store.JobRecord? job) => job is null ? "" : string.Join(' ', job.Command.Select(Quote));

    public static string Duration(Store.JobRecord? job)
    {
        if (job?.StartedAt is not { } start)
        {
            return "0s (never started)";
        }
        return HumanText.Duration((job.FinishedAt ?? DateTimeOffset.UtcNow) - start);
    }

    public static string ExitStatus(Store.JobRecord? job) => job?.ExitCode is { } code
        ? code.ToString(CultureInfo.InvariantCulture)
        : job?.State == JobState.Canceled ? "none (canceled)" : "none";

    /// <summary>
    /// A value as a person reads it in a message: fixed with about six significant digits (3.14159, 0.000123), the
    /// whole integer part always shown (499999.5, 1004999: rounding never changes the integer part, and a fraction is
    /// never rounded away to look like an integer), and scientific with three digits when it is very small or very
    /// large (8.86e-06, 1.23e+16). `meeshkan report --history` has the exact values.
    /// </summary>
    public static string Number(double value)
    {
        if (double.IsNaN(value))
        {
            return "NaN";
        }
        if (double.IsInfinity(value))
        {
            return value > 0 ? "inf" : "-inf";
        }
        var magnitude = Math.Abs(value);
        if (value == 0 || (magnitude >= 1e-4 && magnitude < 1e15))
        {
            var integerDigits = magnitude < 1 ? 0 : (int)Math.Floor(Math.Log10(magnitude)) + 1;
            var decimals = magnitude < 1 ? 6 - (int)Math.Floor(Math.Log10(magnitude == 0 ? 1 : magnitude)) - 1 : Math.Max(6 - integerDigits, 0);
            if (decimals == 0 && value != Math.Round(value))
            {
                decimals = 1;
            }
            var text = value.ToString("F" + Math.Min(decimals, 15).ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
            if (text.Contains('.'))
            {
                text = text.TrimEnd('0').TrimEnd('.');
            }
            return text == "-0" ? "0" : text;
        }
        return value.ToString("0.##e+00", CultureInfo.InvariantCulture);
    }

    public static string Change(double change) =>
        double.IsNaN(change) ? "n/a" : (change >= 0 ? "+" : "") + Number(change);

    private static string Quote(string arg) =>
        arg.Length > 0 && arg.All(c => char.IsLetterOrDigit(c) || "-_./=:,@%+".Contains(c)) ? arg : "'" + arg.Replace("'", "'\\''") + "'";
}
