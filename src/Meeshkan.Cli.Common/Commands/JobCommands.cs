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
        [Option('r', Description = "Seconds between progress notifications (default 3600)")] int? reportInterval,
        [Option(Description = "Python interpreter for .py scripts")] string? python,
        [Option(Description = "Working directory of the job (default: this folder; with --remote: the agent user's home)")] string? cwd,
        [Argument(Description = "Script or command, then its arguments")] string[] command,
        [Option(Description = "GPUs the job needs, held by it alone: a whole number, or 1/2, 1/4 to share one GPU")] string? gpus = null,
        [Option("gpu-ids", Description = "The GPUs it may use, like 0,2 (alone: exactly those)")] string? gpuIds = null,
        [Option(Description = "Higher starts first (default 0); first in, first out among equals")] string? priority = null,
        [Option(Description = "Where it runs: local or slurm (default: `meeshkan setup --executor`, else local)")] string? on = null,
        [Option(Description = "Longest it may run, e.g. 90s, 45m, 2h (Slurm: --time)")] string? timeout = null,
        [Option(Description = "Slurm: CPUs for the job (--cpus-per-task)")] int? cpus = null,
        [Option(Description = "Slurm: memory, e.g. 16G (--mem)")] string? mem = null,
        [Option(Description = "Slurm: partition (default: `meeshkan setup --slurm-partition`)")] string? partition = null) =>
        AgentConnection.RunAsync(async connection =>
        {
            if (reportInterval is <= 0)
            {
                throw new UsageException($"--report-interval must be a positive number of seconds, not {reportInterval}");
            }
            var request = new SubmitJobRequest
            {
                Name = name ?? "",
                ReportIntervalSeconds = reportInterval ?? 0,
                WorkingDirectory = Environment.CurrentDirectory,
                Python = python ?? "",
                On = on ?? "",
                Cpus = cpus ?? 0,
                Mem = mem ?? "",
                Partition = partition ?? "",
            };
            SubmitResources.ApplyTo(request, gpus, gpuIds, priority);
            if (timeout is not null)
            {
                request.TimeoutSeconds = JobDuration.TryParse(timeout, out var limit, out var problem)
                    ? (long)limit.TotalSeconds
                    : throw new UsageException($"--timeout {problem}");
            }
            request.Command.AddRange(command);
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
                foreach (DictionaryEntry variable in Environment.GetEnvironmentVariables())
                {
                    request.Environment[(string)variable.Key] = (string?)variable.Value ?? "";
                }
            }
            var reply = await connection.Jobs.SubmitJobAsync(request);
            foreach (var warning in reply.Warnings)
            {
                Console.Error.WriteLine($"meeshkan: warning: {warning}");
            }
            Console.WriteLine($"Job {reply.Job.Number} submitted: {reply.Job.Name} ({reply.Job.Id})");
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
            // A queued job's reason to wait goes with its status, as squeue's "PD (Resources)".
            // A Slurm job shows Slurm's word while it has not ended: "Slurm 12 PENDING (Resources)", "Slurm 12 RUNNING on node7".
            var state = job.ExecutorState.Length > 0 ? job.ExecutorState
                : job.WaitingReason.Length > 0 ? $"{Format.State(job.State)} ({job.WaitingReason})" : Format.State(job.State);
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
        [Option(Description = "Seconds between SIGTERM and SIGKILL")] int? grace = null) =>
        AgentConnection.RunAsync(async connection =>
        {
            var found = await connection.Jobs.GetJobAsync(new GetJobRequest { Identifier = job });
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
            var reply = await connection.Jobs.CancelJobAsync(new CancelJobRequest { Identifier = found.Id, GraceSeconds = grace ?? 0 });
            Console.WriteLine($"Job {reply.Job.Number} ({reply.Job.Name}) canceled (was {Format.State(reply.PreviousState)}).");
            return 0;
        });

    [Command("clear", Aliases = ["clean"], Description = "Removes ended jobs, their logs and folders (never a running job's).")]
    public Task<int> Clear() => AgentConnection.RunAsync(async connection =>
    {
        var reply = await connection.Jobs.ClearAsync(new ClearRequest());
        Console.WriteLine(reply.ClearedJobNumbers.Count == 0
            ? "Nothing to clear: no ended jobs."
            : $"Cleared {reply.ClearedJobNumbers.Count} ended job(s), {reply.BytesFreed / 1024.0:0.#} KiB of logs.");
        return 0;
    });

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
