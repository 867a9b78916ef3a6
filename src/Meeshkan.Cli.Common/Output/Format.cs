using System.Globalization;
using Google.Protobuf;
using Meeshkan.V1;

namespace Meeshkan.Cli.Output;

/// <summary>How jobs, times and values read on the terminal. One place, so every command says them alike.</summary>
internal static class Format
{
    private static readonly JsonFormatter Json = new(JsonFormatter.Settings.Default.WithFormatDefaultValues(true).WithIndentation());

    public static string ToJson(IMessage message) => Json.Format(message);

    /// <summary>
    /// Writes <paramref name="text"/> to stdout in one write: Console.Out flushes every 256 characters, which for a
    /// `list` of 10,000 jobs is thousands of system calls.
    /// </summary>
    public static void Print(string text)
    {
        Console.Out.Flush();
        using var stdout = Console.OpenStandardOutput();
        stdout.Write(System.Text.Encoding.UTF8.GetBytes(text));
    }

    public static string State(JobState state) => state switch
    {
        JobState.Queued => "QUEUED",
        JobState.Running => "RUNNING",
        JobState.Finished => "FINISHED",
        JobState.Failed => "FAILED",
        JobState.Canceled => "CANCELED",
        _ => "UNKNOWN",
    };

    /// <summary>
    /// A job's status as `list` shows it: the state, with the attempt for a job that has retries ("RUNNING (attempt
    /// 2/3)"), why a queued job waits ("QUEUED (waiting for job 3)", as squeue's "PD (Resources)"), and how a job was
    /// stopped ("FAILED (timed out after 2h)").
    /// </summary>
    public static string Status(Job job)
    {
        var notes = new List<string>();
        if (job.Retries > 0 && job.Attempt > 0)
        {
            notes.Add($"attempt {job.Attempt}/{job.Retries + 1}");
        }
        if (job.WaitingReason.Length > 0)
        {
            notes.Add(job.WaitingReason);
        }
        if (job.State == JobState.Failed && job.FailureReason.Length > 0)
        {
            notes.Add(job.FailureReason);
        }
        return notes.Count == 0 ? State(job.State) : $"{State(job.State)} ({string.Join(", ", notes)})";
    }

    /// <summary>What submit prints for a job it queued: "Job 12 submitted: train (uuid)".</summary>
    public static string Submitted(Job job) => $"Job {job.Number} submitted: {job.Name} ({job.Id})";

    public static string Command(IEnumerable<string> argv) => Shorten(string.Join(' ', argv.Select(Quote)), 60);

    public static string Time(Google.Protobuf.WellKnownTypes.Timestamp? time) =>
        time is null ? "-" : time.ToDateTimeOffset().ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    public static string Duration(Job job)
    {
        if (job.StartedAt is null)
        {
            return "-";
        }
        var end = job.FinishedAt?.ToDateTimeOffset() ?? DateTimeOffset.UtcNow;
        return Duration(end - job.StartedAt.ToDateTimeOffset());
    }

    public static string Duration(TimeSpan span) => HumanText.Duration(span);

    /// <summary>" 45%, 5.0s left" for a running job with progress (tqdm in its output, or reported), "" without.</summary>
    public static string Progress(Job job) =>
        job.State == JobState.Running && HumanText.Progress(job.HasProgress ? job.Progress : null, job.HasEtaSeconds ? job.EtaSeconds : null) is { } text
            ? " " + text
            : "";

    /// <summary>
    /// The shortest text that reads back as exactly this double (499999.5, 1004999, 8.86294e-06): `report` and
    /// `--history` show what was reported, never a rounding of it.
    /// </summary>
    public static string Number(double value) => value switch
    {
        double.NaN => "NaN",
        double.PositiveInfinity => "inf",
        double.NegativeInfinity => "-inf",
        _ => value.ToString("R", CultureInfo.InvariantCulture).Replace("E", "e", StringComparison.Ordinal),
    };

    /// <summary>The text cut to <paramref name="max"/> terminal cells, an ellipsis marking the cut.</summary>
    public static string Shorten(string text, int max)
    {
        if (text.Length <= max && TextTable.DisplayWidth(text) <= max)
        {
            return text;
        }
        var (width, end) = (0, 0);
        foreach (var rune in text.EnumerateRunes())
        {
            width += TextTable.DisplayWidth(rune);
            if (width > max - 1)
            {
                break;
            }
            end += rune.Utf16SequenceLength;
        }
        return string.Concat(text.AsSpan(0, end), "…");
    }

    private static string Quote(string arg) =>
        arg.Length > 0 && arg.All(c => char.IsLetterOrDigit(c) || "-_./=:,+@%".Contains(c)) ? arg : "'" + arg.Replace("'", "'\\''") + "'";
}
