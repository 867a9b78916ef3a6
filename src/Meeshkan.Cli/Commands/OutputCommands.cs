using System.Text;
using Cocona;
using Grpc.Core;
using Meeshkan.Cli.Output;
using Meeshkan.V1;

namespace Meeshkan.Cli.Commands;

/// <summary>logs, report and notifications: what a job produced.</summary>
internal sealed class OutputCommands
{
    [Command("logs", Description = "Prints a job's complete stdout and stderr, and its output folder.")]
    public Task<int> Logs(
        [Argument(Description = "Job number, UUID or name")] string job,
        [Option('f', Description = "Follow a running job until it ends")] bool follow = false,
        [Option(Description = "Print this attempt's output (1 is the first; default: the last)", ValueName = "K")] string? attempt = null) =>
        AgentConnection.RunAsync(async connection =>
        {
            var attemptNumber = AttemptNumber(attempt);
            var found = await connection.FindForReadingAsync(job);
            using var stdout = Console.OpenStandardOutput();
            using var stderr = Console.OpenStandardError();
            using var call = connection.Jobs.StreamLogs(new StreamLogsRequest { Identifier = found.Id, Follow = follow, Attempt = attemptNumber });
            await foreach (var chunk in call.ResponseStream.ReadAllAsync())
            {
                var target = chunk.Stream == LogChunk.Types.Stream.Stderr ? stderr : stdout;
                chunk.Data.WriteTo(target);
                target.Flush();
            }
            Console.Error.WriteLine($"[meeshkan] job {found.Number} ({found.Name}) output folder: {found.OutputDirectory}");
            return 0;
        });

    [Command("report", Description = "Prints the latest value of each scalar a job reported.")]
    public Task<int> Report(
        [Argument(Description = "Job number, UUID or name")] string job,
        [Option(Description = "Print the whole history of this scalar")] string? history = null,
        [Option(Description = "Write a PNG chart to this file: of the --history scalar, of the --scalars, else of every scalar")] string? plot = null,
        [Option(Description = "With --plot: only these scalars, comma-separated", ValueName = "NAME,NAME")] string? scalars = null,
        [Option("log-y", Description = "With --plot: a logarithmic value axis")] bool logY = false,
        [Option(Description = "This attempt's scalars (each attempt of a retried job has its own; 1 is the first; default: the last)", ValueName = "K")] string? attempt = null,
        [Option("json", Description = "Print JSON")] bool json = false) =>
        AgentConnection.RunAsync(async connection =>
        {
            var attemptNumber = AttemptNumber(attempt);
            if (plot is null && (scalars is not null || logY))
            {
                throw new UsageException("--scalars and --log-y shape the chart: add --plot FILE.png");
            }
            // In a terminal, each scalar also gets a trend line of its whole history.
            var trend = !json && !Console.IsOutputRedirected;
            var target = await connection.FindForReadingAsync(job);
            var reply = await connection.Jobs.GetReportAsync(new GetReportRequest { Identifier = target.Id, HistoryName = history ?? "", TrendPoints = trend ? 30 : 0, Attempt = attemptNumber });
            if (plot is not null)
            {
                var names = history is not null ? [history]
                    : scalars?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries) ?? [];
                if (names.FirstOrDefault(n => reply.Scalars.All(s => s.Name != n)) is { } unknown)
                {
                    throw new UsageException($"job {reply.Job.Number} has no scalar named '{unknown}'; it has: {string.Join(", ", reply.Scalars.Select(s => s.Name))}");
                }
                var request = new RenderChartRequest { Identifier = reply.Job.Id, Width = 1000, Height = 600, LogY = logY, Attempt = reply.Attempt };
                request.Names.AddRange(names);
                var chart = await connection.Jobs.RenderChartAsync(request);
                await File.WriteAllBytesAsync(plot, chart.Png.ToByteArray());
                Console.Error.WriteLine($"Chart written to {Path.GetFullPath(plot)}");
            }
            if (json)
            {
                Console.WriteLine(Format.ToJson(reply));
                return 0;
            }
            var header = $"Job {reply.Job.Number} ({reply.Job.Name}), {Format.State(reply.Job.State)}" +
                (reply.Job.Retries > 0 || reply.Attempt > 1 ? $", attempt {reply.Attempt}/{reply.Job.Retries + 1}" : "") +
                (reply.Job.FailureReason.StartsWith("stopped by condition", StringComparison.Ordinal) ? $": {reply.Job.FailureReason}" : "");
            if (reply.Scalars.Count == 0)
            {
                Console.WriteLine($"{header}: no scalars reported yet. Scripts report them with meeshkan.report_scalar(\"loss\", value).");
                return 0;
            }
            if (history is not null)
            {
                var points = new TextTable("STEP", history, "TIME") { RightAligned = [1] };
                foreach (var point in reply.History)
                {
                    points.Add(point.Step.ToString(System.Globalization.CultureInfo.InvariantCulture), Format.Number(point.Value),
                        Format.Time(Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(DateTimeOffset.FromUnixTimeMilliseconds(point.WallTimeUs / 1000))));
                }
                points.Print();
                return 0;
            }
            Console.WriteLine(header);
            var table = new TextTable(trend ? ["SCALAR", "VALUE", "STEP", "COUNT", "TIME", "TREND"] : ["SCALAR", "VALUE", "STEP", "COUNT", "TIME"]) { RightAligned = [1] };
            foreach (var scalar in reply.Scalars)
            {
                string[] cells = [scalar.Name, Format.Number(scalar.Value), scalar.Step.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    scalar.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), Format.Time(scalar.Time)];
                table.Add(trend ? [.. cells, Sparkline.Draw(scalar.Trend)] : cells);
            }
            table.Print();
            if (reply.ConditionEvents.Count > 0)
            {
                Console.WriteLine();
                Console.WriteLine("Conditions met:");
                foreach (var evt in reply.ConditionEvents)
                {
                    var values = string.Join(", ", evt.Values.Select(v => $"{v.Key}={Format.Number(v.Value)}"));
                    var stopped = evt.Action == ConditionAction.Stop ? "  (stopped the job)" : "";
                    Console.WriteLine($"  {Format.Time(evt.Time)}  {evt.Description}  ({values}){stopped}");
                }
            }
            return 0;
        });

    /// <summary>--attempt K of logs and report: 0 when not given (the last attempt).</summary>
    private static int AttemptNumber(string? attempt)
    {
        if (attempt is null)
        {
            return 0;
        }
        if (!int.TryParse(attempt, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var number) || number < 1)
        {
            throw new UsageException($"--attempt takes an attempt's number, 1 for the first (`meeshkan list` shows the attempts), not '{attempt}'");
        }
        return number;
    }

    [Command("notifications", Description = "Prints the notification history of a job.")]
    public Task<int> Notifications(
        [Argument(Description = "Job number, UUID or name")] string job,
        [Option("json", Description = "Print JSON")] bool json = false) =>
        AgentConnection.RunAsync(async connection =>
        {
            var target = await connection.FindForReadingAsync(job);
            var reply = await connection.Jobs.ListNotificationsAsync(new ListNotificationsRequest { Identifier = target.Id });
            if (json)
            {
                Console.WriteLine(Format.ToJson(reply));
                return 0;
            }
            if (reply.Notifications.Count == 0)
            {
                Console.WriteLine($"Job {reply.Job.Number} ({reply.Job.Name}): no notifications yet. Configure channels with `meeshkan setup`.");
                return 0;
            }
            var table = new TextTable("TIME", "EVENT", "CHANNEL", "STATUS", "DETAIL");
            foreach (var n in reply.Notifications)
            {
                table.Add(Format.Time(n.Time), n.Event, n.Channel,
                    n.Status == NotificationStatus.Success ? "SUCCESS" : n.Status == NotificationStatus.Failed ? "FAILED" : "PENDING",
                    n.Status == NotificationStatus.Failed ? $"attempt {n.Attempt}: {n.Reason}" : n.Summary);
            }
            table.Print();
            return 0;
        });
}
