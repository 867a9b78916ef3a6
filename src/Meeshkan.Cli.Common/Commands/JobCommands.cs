using System.Collections;
using Cocona;
using Meeshkan.Cli.Output;
using Meeshkan.V1;

namespace Meeshkan.Cli.Commands;

/// <summary>submit, list, cancel and clear: the queue.</summary>
internal sealed class JobCommands
{
    [Command("submit", Description = "Submits a script (.py, .sh) or a command as a job: meeshkan submit [-n NAME] [-r SECONDS] train.py [ARGS...]")]
    public Task<int> Submit(
        [Option('n', Description = "Job name (default: the script's file name)")] string? name,
        [Option('r', Description = "Seconds between progress notifications (default 3600)", ValueName = "SECONDS")] string? reportInterval,
        [Option(Description = "Python interpreter for .py scripts")] string? python,
        [Option(Description = "Working directory of the job (default: this folder; with --remote: the agent user's home)")] string? cwd,
        [Argument(Description = "Script or command, then its arguments")] string[]? command = null,
        [Option(Description = "GPUs the job needs, held by it alone: a whole number, or 1/2, 1/4 to share one GPU")] string? gpus = null,
        [Option("gpu-ids", Description = "The GPUs it may use, like 0,2 (alone: exactly those)")] string? gpuIds = null,
        [Option(Description = "Higher starts first (default 0); first in, first out among equals")] string? priority = null,
        [Option(Description = "Read scalars from the job's output: `name: value`, `name=value`, `name: value (step N)`, tqdm progress")] bool scalarsFromOutput = false,
        [Option(Description = "Your own regex for scalars in the output: named groups value (required), name, step")] string? scalarPattern = null,
        [Option(Description = "Start when these jobs have all FINISHED; if one fails or is canceled, this one fails at once", ValueName = "JOB[,JOB...]")] string? after = null,
        [Option("after-any", Description = "Start when these jobs have ended, however they ended", ValueName = "JOB[,JOB...]")] string? afterAny = null,
        [Option(Description = "Stop an attempt that runs longer (SIGTERM, then SIGKILL after the grace period): 90s, 45m, 2h, 1d; on Slurm, its --time", ValueName = "DURATION")] string? timeout = null,
        [Option(Description = "Start a failed attempt again, up to N more times (not after a cancel or a --stop-if stop)", ValueName = "N")] string? retries = null,
        [Option("retry-delay", Description = "Wait this long before each retry (default 0s)", ValueName = "DURATION")] string? retryDelay = null,
        [Option("stop-if", Description = "Stop the job when this condition on its scalars is met, like \"isnan([train loss])\"", ValueName = "EXPR")] string? stopIf = null,
        [Option(Description = "Where it runs: local or slurm (default: `meeshkan setup --executor`, else local)")] string? on = null,
        [Option(Description = "Slurm: CPUs for the job (--cpus-per-task)")] int? cpus = null,
        [Option(Description = "Slurm: memory, e.g. 16G (--mem)")] string? mem = null,
        [Option(Description = "Slurm: partition (default: `meeshkan setup --slurm-partition`)")] string? partition = null,
        [Option(Description = "One job per line of FILE (- for standard input), in one call: each line a command, split as sh would; the other options apply to each", ValueName = "FILE")] string? from = null) =>
        AgentConnection.RunAsync(async connection =>
        {
            command ??= [];
            var commands = from is null ? null : SubmitList.Read(from, command);
            if (commands is null && command.Length == 0)
            {
                throw new UsageException("give the script or command to run: meeshkan submit [-n NAME] train.py [ARGS...]");
            }
            var interval = CommandLine.Seconds(reportInterval, "--report-interval");
            var request = new SubmitJobRequest
            {
                Name = name ?? "",
                ReportIntervalSeconds = interval ?? 0,
                WorkingDirectory = Environment.CurrentDirectory,
                Python = python ?? "",
                ScalarsFromOutput = scalarsFromOutput || scalarPattern is not null,
                ScalarPattern = scalarPattern ?? "",
                On = on ?? "",
                Cpus = cpus ?? 0,
                Mem = mem ?? "",
                Partition = partition ?? "",
            };
            SubmitResources.ApplyTo(request, gpus, gpuIds, priority);
            SubmitPipeline.ApplyTo(request, after, afterAny, timeout, retries, retryDelay, stopIf);
            if (commands is null)
            {
                request.Command.AddRange(command);
            }
            if (connection.Remote is not null)
            {
                // This machine's folder and environment mean nothing over there: the agent's own apply (docs/remote.md).
                request.WorkingDirectory = cwd ?? "";
            }
            else
            {
                if (cwd is not null)
                {
                    request.WorkingDirectory = Path.GetFullPath(cwd);
                }
                foreach (var first in commands?.Select(c => c[0]) ?? [command[0]])
                {
                    CheckLocalPaths(first, python, request.WorkingDirectory);
                }
                foreach (DictionaryEntry variable in Environment.GetEnvironmentVariables())
                {
                    request.Environment[(string)variable.Key] = (string?)variable.Value ?? "";
                }
            }
            if (commands is not null)
            {
                return await SubmitList.SubmitAsync(connection, request, commands);
            }
            var reply = await SubmitPipeline.SendAsync(async () => await connection.Jobs.SubmitJobAsync(request));
            foreach (var warning in reply.Warnings)
            {
                Console.Error.WriteLine($"meeshkan: warning: {warning}");
            }
            Console.WriteLine(Format.Submitted(reply.Job));
            return 0;
        });

    [Command("list", Description = "Lists the jobs and their status.")]
    public Task<int> List([Option("json", Description = "Print JSON")] bool json = false) => AgentConnection.RunAsync(async connection =>
    {
        // The table shows a few fields of each job: ask for those alone (a tenth of the bytes to move and parse).
        var reply = await connection.Jobs.ListJobsAsync(new ListJobsRequest { View = json ? JobView.Full : JobView.Basic });
        if (json)
        {
            Format.Print(Format.ToJson(reply) + "\n");
            return 0;
        }
        if (reply.Jobs.Count == 0)
        {
            Console.WriteLine("No jobs yet. Submit one with `meeshkan submit script.py`.");
            return 0;
        }
        var gpus = reply.Jobs.Any(j => j.Gpus.Count > 0 || j.WaitingReason.Length > 0);
        var table = gpus
            ? new TextTable("#", "NAME", "STATUS", "GPUS", "STARTED", "DURATION", "NOTIFIED", "COMMAND")
            : new TextTable("#", "NAME", "STATUS", "STARTED", "DURATION", "NOTIFIED", "COMMAND");
        foreach (var job in reply.Jobs)
        {
            // A queued job's reason to wait goes with its status, as squeue's "PD (Resources)"; a Slurm job shows Slurm's word
            // while it has not ended ("Slurm 12 PENDING (Resources)", "Slurm 12 RUNNING on node7").
            // A running job's progress and time left (tqdm in its output, or reported) go with it too: "RUNNING 45%, 5s left".
            var state = job.ExecutorState.Length > 0 ? job.ExecutorState + Format.Progress(job)
                : Format.Status(job) + (job.WaitingReason.Length > 0 ? "" : Format.Progress(job));
            string[] row = [job.Number.ToString(System.Globalization.CultureInfo.InvariantCulture), Format.Shorten(job.Name, 30), state,
                Format.Time(job.StartedAt), Format.Duration(job), NotificationStatus(job), Format.Command(job.Command)];
            table.Add(gpus ? [.. row[..3], job.Gpus.Count == 0 ? "-" : string.Join(',', job.Gpus), .. row[3..]] : row);
        }
        table.Print();
        return 0;
    });

    [Command("cancel", Description = "Cancels a queued or running job (a running one asks first; -y skips that).")]
    public Task<int> Cancel(
        [Argument(Description = "Job number, UUID or name")] string job,
        [Option('y', Description = "Do not ask before canceling a running job")] bool yes = false,
        [Option(Description = "Seconds between SIGTERM and SIGKILL", ValueName = "SECONDS")] string? grace = null) =>
        AgentConnection.RunAsync(async connection =>
        {
            var graceSeconds = CommandLine.Seconds(grace, "--grace");
            var matches = await connection.FindAllAsync(job);
            var changeable = matches.Where(j => j.State is JobState.Queued or JobState.Running).ToList();
            if (changeable.Count > 1)
            {
                // Canceling is not undone: never guess which one was meant.
                var table = new TextTable("#", "NAME", "STATUS");
                foreach (var match in changeable)
                {
                    table.Add(match.Number.ToString(System.Globalization.CultureInfo.InvariantCulture), match.Name, Format.State(match.State));
                }
                Console.Error.Write(table.ToString());
                throw new UsageException($"'{job}' matches {changeable.Count} jobs that can be canceled; nothing canceled. Cancel one by its number: meeshkan cancel {changeable[0].Number}");
            }
            // One queued or running job among the matches is the one meant; with none, the latest says why it cannot be.
            var found = changeable.Count == 1 ? changeable[0] : matches[0];
            if (found.State == JobState.Running && !yes)
            {
                if (Console.IsInputRedirected)
                {
                    throw new UsageException($"job {found.Number} ({found.Name}) is running; add -y to cancel it without asking");
                }
                Console.Write($"Job {found.Number} ({found.Name}) is running. Cancel it? [y/N] ");
                var answer = Console.ReadLine()?.Trim().ToLowerInvariant();
                if (answer is not ("y" or "yes"))
                {
                    Console.WriteLine("Not canceled.");
                    return 1;
                }
            }
            var reply = await connection.Jobs.CancelJobAsync(new CancelJobRequest { Identifier = found.Id, GraceSeconds = graceSeconds ?? 0 });
            Console.WriteLine($"Job {reply.Job.Number} ({reply.Job.Name}) canceled (was {Format.State(reply.PreviousState)}).");
            return 0;
        });

    [Command("clear", Aliases = ["clean"], Description = "Removes ended jobs, their logs and folders (never a running job's); asks first in a terminal, -y skips that.")]
    public Task<int> Clear([Option('y', Description = "Do not ask first")] bool yes = false) => AgentConnection.RunAsync(async connection =>
    {
        if (!yes && !Console.IsInputRedirected)
        {
            var listed = await connection.Jobs.ListJobsAsync(new ListJobsRequest { View = JobView.Basic });
            var ended = listed.Jobs.Where(j => j.State is JobState.Finished or JobState.Failed or JobState.Canceled).ToList();
            if (ended.Count == 0)
            {
                Console.WriteLine("Nothing to clear: no ended jobs.");
                return 0;
            }
            var numbers = string.Join(", ", ended.Take(10).Select(j => j.Number.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            Console.Write($"Remove {ended.Count} ended job(s) ({numbers}{(ended.Count > 10 ? ", ..." : "")}) with their logs and folders? [y/N] ");
            if (Console.ReadLine()?.Trim().ToLowerInvariant() is not ("y" or "yes"))
            {
                Console.WriteLine("Nothing removed.");
                return 0;
            }
        }
        var reply = await connection.Jobs.ClearAsync(new ClearRequest());
        Console.WriteLine(reply.ClearedJobNumbers.Count == 0
            ? "Nothing to clear: no ended jobs."
            : $"Cleared {reply.ClearedJobNumbers.Count} ended job(s), {HumanText.Bytes(reply.BytesFreed)} of logs and files.");
        return 0;
    });

    /// <summary>
    /// Mistakes the agent would only call "not found": a folder given as the job, an interpreter that is not executable.
    /// (This machine's paths only: with --remote they are the other machine's.)
    /// </summary>
    private static void CheckLocalPaths(string first, string? python, string workingDirectory)
    {
        if (first.Length == 0)
        {
            return; // the agent says there is nothing to run
        }
        // A bare name is looked up on PATH first: a folder of that name here matters only when PATH has no such command
        // (looked for only then: most submits have no such folder).
        if (Directory.Exists(Path.GetFullPath(first, workingDirectory)) && !OnPath(first))
        {
            throw new UsageException($"{first} is a folder, not a script or a command: give the script in it (meeshkan submit {first.TrimEnd('/')}/train.py)");
        }
        if (python is not null && python.Contains('/'))
        {
            var interpreter = Path.GetFullPath(python, workingDirectory);
            if (Directory.Exists(interpreter))
            {
                throw new UsageException($"--python {python} is a folder; give the interpreter itself, such as {interpreter.TrimEnd('/')}/bin/python3");
            }
            if (File.Exists(interpreter) && (File.GetUnixFileMode(interpreter) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) == 0)
            {
                throw new UsageException($"--python {python} exists but is not an executable program; give a Python interpreter, such as /usr/bin/python3");
            }
        }
    }

    private static bool OnPath(string command) => !command.Contains('/')
        && (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries).Any(dir => File.Exists(Path.Combine(dir, command)));

    private static string NotificationStatus(Job job) => job.LastNotification is { } last
        ? last.Status switch
        {
            V1.NotificationStatus.Success => "ok",
            V1.NotificationStatus.Failed => "FAILED",
            V1.NotificationStatus.Pending => "pending",
            _ => "-",
        }
        : "-";
}
