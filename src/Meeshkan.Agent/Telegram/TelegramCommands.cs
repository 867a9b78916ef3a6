using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Meeshkan.Agent.Jobs;
using Meeshkan.Agent.Notifications;
using Meeshkan.Agent.Services;
using Meeshkan.Agent.Store;

namespace Meeshkan.Agent.Telegram;

/// <summary>What the bot answers: text, an optional inline keyboard, an optional photo.</summary>
public sealed record BotReply(string Text, JsonObject? Keyboard = null, byte[]? Photo = null);

/// <summary>
/// The bot's commands, for chats already known to be allowed: /list, /status N, /report N, /logs N, /cancel N and its
/// confirmation (the button, or /confirm N within <see cref="ConfirmWithin"/>).
/// </summary>
public sealed class TelegramCommands(
    JobQueries queries, JobLifecycle lifecycle, TimeProvider time, IChartRenderer? charts = null)
{
    public static readonly TimeSpan ConfirmWithin = TimeSpan.FromMinutes(2);
    public const string CancelData = "cancel:";
    private const int ListedJobs = 15;
    private const int LogLines = 20;

    private readonly ConcurrentDictionary<(long Chat, long Job), DateTimeOffset> _pendingCancels = new();

    public const string Help = """
        Meeshkan commands:
        /list - the latest jobs
        /status N - one job
        /report N - its latest values and chart
        /logs N - the end of its output
        /cancel N - cancel it (asks to confirm)
        """;

    /// <summary>Answers one message from an allowed chat.</summary>
    public async Task<IReadOnlyList<BotReply>> HandleMessageAsync(long chat, string text)
    {
        var words = text.Trim().Split(' ', 2, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (words.Length == 0 || !words[0].StartsWith('/'))
        {
            return [new BotReply(Help)];
        }
        var command = words[0].Split('@')[0].ToLowerInvariant();
        var argument = words.Length > 1 ? words[1] : "";
        switch (command)
        {
            case "/list":
                return [List()];
            case "/start" or "/help":
                return [new BotReply(Help)];
        }
        if (argument.Length == 0)
        {
            return [new BotReply($"Which job? For example {command} 3 (see /list).")];
        }
        if (queries.Find(argument) is not { } job)
        {
            return [new BotReply($"No job matches '{JobResolver.Printable(argument)}'; see /list.")];
        }
        return command switch
        {
            "/status" => [Status(job)],
            "/report" => Report(job),
            "/logs" => [Logs(job)],
            "/cancel" => [AskToCancel(chat, job)],
            "/confirm" => [await ConfirmCancelAsync(chat, job.Number).ConfigureAwait(false)],
            _ => [new BotReply("Unknown command.\n" + Help)],
        };
    }

    /// <summary>A press on the confirm button: the reply, and the short text the button shows.</summary>
    public async Task<(BotReply? Reply, string Toast)> HandleCallbackAsync(long chat, string data)
    {
        if (!data.StartsWith(CancelData, StringComparison.Ordinal)
            || !long.TryParse(data.AsSpan(CancelData.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var number))
        {
            return (null, "Unknown button");
        }
        var reply = await ConfirmCancelAsync(chat, number).ConfigureAwait(false);
        return (reply, reply.Text.Contains("canceled (was", StringComparison.Ordinal) ? "Canceled" : "Not canceled");
    }

    private BotReply List()
    {
        var latest = queries.List(limit: ListedJobs);
        if (latest.Count == 0)
        {
            return new BotReply("No jobs yet.");
        }
        var text = new StringBuilder($"Latest {latest.Count} job(s):\n");
        foreach (var job in latest.Reverse())
        {
            text.Append(CultureInfo.InvariantCulture, $"#{job.Number} {job.Name}: {State(job.State)}, {NotificationText.Duration(job)}\n");
        }
        return new BotReply(text.ToString().TrimEnd());
    }

    private static BotReply Status(JobRecord job)
    {
        var text = new StringBuilder().Append(CultureInfo.InvariantCulture, $"Job {job.Number} ({job.Name}): {State(job.State)}\n");
        text.Append("Command: ").Append(NotificationText.Command(job)).Append('\n');
        if (job.StartedAt is { } started)
        {
            text.Append(CultureInfo.InvariantCulture, $"Started: {started.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC\n");
        }
        text.Append("Duration: ").Append(NotificationText.Duration(job)).Append('\n');
        if (job.IsEnded)
        {
            text.Append("Exit status: ").Append(NotificationText.ExitStatus(job)).Append('\n');
        }
        if (!string.IsNullOrEmpty(job.FailureReason))
        {
            text.Append("Reason: ").Append(job.FailureReason).Append('\n');
        }
        text.Append("Output folder: ").Append(job.OutputDirectory);
        return new BotReply(text.ToString());
    }

    private IReadOnlyList<BotReply> Report(JobRecord job)
    {
        var latest = queries.LatestScalars(job.Number);
        var header = $"Job {job.Number} ({job.Name}), {State(job.State)}";
        if (latest.Count == 0)
        {
            return [new BotReply($"{header}: no scalars reported yet.")];
        }
        var lines = latest.Select(s => new ScalarLine(s.Name, s.Value, s.Step, null)).ToList();
        var replies = new List<BotReply> { new($"{header}\n\n{NotificationText.ScalarTable(lines)}") };
        if (charts is not null)
        {
            replies.Add(new BotReply($"Job {job.Number} ({job.Name})", Photo: charts.Render(job, [], 1000, 600)));
        }
        return replies;
    }

    private static BotReply Logs(JobRecord job)
    {
        var stdout = NotificationComposer.StderrTail(job.Folder.Stdout, LogLines);
        var stderr = NotificationComposer.StderrTail(job.Folder.Stderr, LogLines);
        if (stdout.Count == 0 && stderr.Count == 0)
        {
            return new BotReply($"Job {job.Number} ({job.Name}) has printed nothing yet.");
        }
        var text = new StringBuilder().Append(CultureInfo.InvariantCulture, $"Job {job.Number} ({job.Name}), {State(job.State)}\n");
        if (stdout.Count > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $"\nstdout, last {stdout.Count} lines:\n").AppendJoin('\n', stdout).Append('\n');
        }
        if (stderr.Count > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $"\nstderr, last {stderr.Count} lines:\n").AppendJoin('\n', stderr);
        }
        var all = text.ToString().TrimEnd();
        return new BotReply(all.Length > TelegramBotApi.MaxText ? "…" + all[^(TelegramBotApi.MaxText - 1)..] : all);
    }

    private BotReply AskToCancel(long chat, JobRecord job)
    {
        if (job.IsEnded)
        {
            return new BotReply($"Job {job.Number} ({job.Name}) has already ended: {State(job.State)}.");
        }
        if (job.External)
        {
            return new BotReply($"Job {job.Number} ({job.Name}) runs outside the agent; stop that process instead (pid {job.Pid}).");
        }
        _pendingCancels[(chat, job.Number)] = time.GetUtcNow() + ConfirmWithin;
        var keyboard = new JsonObject
        {
            ["inline_keyboard"] = new JsonArray(new JsonArray(new JsonObject
            {
                ["text"] = $"Yes, cancel job {job.Number}",
                ["callback_data"] = CancelData + job.Number.ToString(CultureInfo.InvariantCulture),
            })),
        };
        return new BotReply(
            $"Cancel job {job.Number} ({job.Name}), {State(job.State)}? Press the button or send /confirm {job.Number} within {ConfirmWithin.TotalMinutes:0} minutes.",
            keyboard);
    }

    private async Task<BotReply> ConfirmCancelAsync(long chat, long number)
    {
        if (!_pendingCancels.TryRemove((chat, number), out var until) || until < time.GetUtcNow())
        {
            return new BotReply($"Nothing to confirm for job {number}: send /cancel {number} first.");
        }
        if (queries.ByNumber(number) is not { } job)
        {
            return new BotReply($"Job {number} no longer exists.");
        }
        if (job.IsEnded)
        {
            return new BotReply($"Job {job.Number} ({job.Name}) had already ended: {State(job.State)}.");
        }
        try
        {
            await lifecycle.CancelAsync(job).ConfigureAwait(false);
        }
        catch (NotAllowedException e)
        {
            return new BotReply(e.Message + ".");
        }
        return new BotReply($"Job {job.Number} ({job.Name}) canceled (was {State(job.State)}).");
    }

    private static string State(JobState state) => state.ToString().ToUpperInvariant();
}
