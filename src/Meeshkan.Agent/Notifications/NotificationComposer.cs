using System.Globalization;
using System.Text;
using Meeshkan.Agent.Charts;
using Meeshkan.Agent.Store;

namespace Meeshkan.Agent.Notifications;

/// <summary>
/// Turns a request into a notification, in the background: reads the latest scalars, the stderr tail, draws the
/// chart and saves it in the job's folder (<c>charts/</c>).
/// </summary>
public sealed class NotificationComposer(ScalarStore scalars, ScalarChartRenderer charts, IntervalTracker intervals, TimeProvider time)
{
    /// <summary>Lines of stderr a failure carries.</summary>
    public const int StderrLines = 50;

    /// <summary>Chart files kept per job; older ones are deleted.</summary>
    public const int ChartsKept = 100;

    public static string Host { get; } = Environment.MachineName;

    public Notification Compose(NotificationRequest request)
    {
        var job = request.Job;
        var now = time.GetUtcNow();
        IReadOnlyList<ScalarLine> lines = [];
        IReadOnlyCollection<string>? chartNames = null;
        ConditionInfo? condition = null;
        IReadOnlyList<string> stderr = [];
        switch (request.Event)
        {
            case NotificationEvent.IntervalReport:
            {
                var latest = scalars.Latest(job.Number);
                var values = latest.ToDictionary(s => s.Name, s => s.Value, StringComparer.Ordinal);
                var previous = intervals.ExchangeReported(job.Number, values);
                lines = latest.Select(s => new ScalarLine(s.Name, s.Value, s.Step, previous.TryGetValue(s.Name, out var p) ? s.Value - p : null)).ToList();
                chartNames = [];
                break;
            }
            case NotificationEvent.ConditionMet when request.Condition is { } met:
            {
                var values = met.Values.ToDictionary(v => v.Key, v => v.Value, StringComparer.Ordinal);
                condition = new ConditionInfo(met.ConditionId, met.Description, values, request.OnlyReported);
                var latest = scalars.Latest(job.Number, job.Attempt);
                if (request.OnlyReported)
                {
                    latest = latest.Where(s => values.ContainsKey(s.Name)).ToList();
                    chartNames = values.Keys.ToList();
                }
                else
                {
                    chartNames = [];
                }
                lines = latest.Select(s => new ScalarLine(s.Name, s.Value, s.Step, null)).ToList();
                break;
            }
            case NotificationEvent.JobFinished or NotificationEvent.JobFailed or NotificationEvent.JobCanceled:
            {
                // The attempt that ended (submit --retries): each has its own scalars.
                lines = scalars.Latest(job.Number, job.Attempt).Select(s => new ScalarLine(s.Name, s.Value, s.Step, null)).ToList();
                chartNames = lines.Count > 0 ? [] : null;
                if (request.Event == NotificationEvent.JobFailed)
                {
                    stderr = StderrTail(job.Folder.Stderr, StderrLines);
                }
                break;
            }
        }

        byte[]? png = null;
        string? chartPath = null;
        if (chartNames is not null && lines.Count > 0)
        {
            // "All" are the latest scalars the lines already hold: the chart does not read them again.
            png = charts.Render(job, chartNames.Count > 0 ? chartNames : [.. lines.Select(l => l.Name)], 0, 0,
                attempt: request.Event == NotificationEvent.IntervalReport ? 0 : job.Attempt);
            chartPath = SaveChart(job, request.Event, now, png);
        }
        return new Notification
        {
            Event = request.Event,
            Job = job,
            Time = now,
            Host = Host,
            Scalars = lines,
            Condition = condition,
            Message = request.Message,
            StderrTail = stderr,
            ChartPng = png,
            ChartPath = chartPath,
        };
    }

    /// <summary>The last <paramref name="count"/> lines of a file (read from its end; long lines clipped).</summary>
    public static IReadOnlyList<string> StderrTail(string path, int count)
    {
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            var start = Math.Max(0, file.Length - 64 * 1024);
            file.Seek(start, SeekOrigin.Begin);
            var text = new StreamReader(file, Encoding.UTF8).ReadToEnd();
            if (text.Trim().Length == 0)
            {
                return [];
            }
            var lines = text.ReplaceLineEndings("\n").TrimEnd('\n').Split('\n');
            // A read that began mid-file began mid-line: drop that partial line.
            var skip = start > 0 && lines.Length > 1 ? 1 : 0;
            return lines.Skip(skip).TakeLast(count).Select(l => l.Length > 500 ? l[..499] + "…" : l).ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    private static string? SaveChart(JobRecord job, NotificationEvent e, DateTimeOffset now, byte[] png)
    {
        try
        {
            if (!Directory.Exists(job.OutputDirectory))
            {
                return null;
            }
            var folder = Path.Combine(job.OutputDirectory, "charts");
            Directory.CreateDirectory(folder);
            var path = Path.Combine(folder, $"{now.UtcDateTime.ToString("yyyyMMdd-HHmmss-fff", CultureInfo.InvariantCulture)}-{e.Name()}.png");
            File.WriteAllBytes(path, png);
            foreach (var old in Directory.GetFiles(folder, "*.png").Order(StringComparer.Ordinal).SkipLast(ChartsKept))
            {
                File.Delete(old);
            }
            return path;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
