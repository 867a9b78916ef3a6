using System.Diagnostics;
using System.Globalization;
using Meeshkan.Agent.Internal;
using Meeshkan.Agent.Store;

namespace Meeshkan.Agent.Scheduler;

/// <summary>How a job's process ended: its exit code, or why it is unknown.</summary>
public sealed record JobExit(int? ExitCode, string? Unknown = null);

/// <summary>A job process being watched: started by this agent, or adopted from an earlier one.</summary>
public sealed record RunningJob(long Number, int Pid, long? StartTicks, Task<JobExit> Exited);

/// <summary>
/// The one place that starts job processes. Each job runs under a small `sh` parent in its own session
/// (so that the whole tree can be signalled), writes stdout/stderr straight to its files, and records its
/// exit status in the job folder, so none of it depends on the agent staying up.
/// </summary>
public sealed class JobLauncher(AgentOptions options)
{
    // $1 is the job folder, the rest is the job's argv. The status file is read only once this `sh` has exited, so
    // the builtin echo (one small write) is enough; an `mv` for atomicity would cost a fork and an exec per job.
    private const string Wrapper =
        "d=$1; shift; \"$@\" >>\"$d/stdout\" 2>>\"$d/stderr\" </dev/null; c=$?; " +
        "echo $c >\"$d/exit_code\"; exit $c";

    public const string ExitCodeFile = "exit_code";

    private readonly ChildReaper _reaper = new();

    private const string Shell = "/bin/sh";

    public RunningJob Start(JobRecord job)
    {
        Directory.CreateDirectory(job.OutputDirectory);
        File.Delete(Path.Combine(job.OutputDirectory, ExitCodeFile));
        // Its own session (so the whole tree can be signalled) straight from posix_spawn: one clone and one exec of
        // `sh`, which forks the job. A `setsid` program in between cost a further exec per job.
        var pid = PosixSpawn.Start(Shell, [Shell, "-c", Wrapper, "meeshkan-job", job.OutputDirectory, .. job.Command],
            JobEnvironment(job), job.WorkingDirectory);
        // Read before the reaper may reap it: a zombie still has its /proc entry.
        var ticks = Native.ProcessStartTicks(pid);
        return new RunningJob(job.Number, pid, ticks, _reaper.Watch(pid));
    }

    /// <summary>Watches a job that an earlier agent started; null when its process is already gone.</summary>
    public RunningJob Adopt(JobRecord job, CancellationToken stopping)
    {
        return new RunningJob(job.Number, job.Pid ?? 0, job.PidStartTicks, PollAsync(job, stopping));
    }

    /// <summary>SIGTERM to the job's whole process group, then SIGKILL after <paramref name="grace"/>.</summary>
    public static async Task TerminateAsync(RunningJob job, TimeSpan grace)
    {
        Native.SignalGroup(job.Pid, Native.SIGTERM);
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < grace && Native.GroupAlive(job.Pid))
        {
            await Task.Delay(50).ConfigureAwait(false);
        }
        if (Native.GroupAlive(job.Pid))
        {
            Native.SignalGroup(job.Pid, Native.SIGKILL);
        }
    }

    public IEnumerable<KeyValuePair<string, string>> JobEnvironment(JobRecord job)
    {
        var env = new Dictionary<string, string>(job.Environment ?? new Dictionary<string, string>());
        env["MEESHKAN_JOB_ID"] = job.Id;
        env["MEESHKAN_JOB_NUMBER"] = job.Number.ToString(CultureInfo.InvariantCulture);
        env["MEESHKAN_HOME"] = options.Home.Root;
        env["MEESHKAN_JOB_FOLDER"] = job.OutputDirectory;
        env["MEESHKAN_SOCKET"] = options.Home.SocketPath;
        env["MEESHKAN_CLI"] = options.CliPath;
        env["PYTHONPATH"] = env.TryGetValue("PYTHONPATH", out var existing) && existing.Length > 0
            ? options.PythonClientPath + ":" + existing
            : options.PythonClientPath;
        // Logs are read while the job runs: without this, Python holds print() output back in 8 KB blocks.
        env.TryAdd("PYTHONUNBUFFERED", "1");
        return env;
    }

    private async Task<JobExit> PollAsync(JobRecord job, CancellationToken stopping)
    {
        while (IsSameProcessAlive(job))
        {
            await Task.Delay(options.AdoptedJobPollInterval, stopping).ConfigureAwait(false);
        }
        return ReadExitFile(job.OutputDirectory) is { } code
            ? new JobExit(code)
            : new JobExit(null, "the job ended while no agent was watching, without recording its exit status");
    }

    private static bool IsSameProcessAlive(JobRecord job) =>
        job.Pid is { } pid && Native.ProcessStartTicks(pid) is { } ticks && (job.PidStartTicks is null || job.PidStartTicks == ticks)
        && !IsZombie(pid);

    private static bool IsZombie(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)] == 'Z';
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>The exit code the job's parent recorded, if it got that far.</summary>
    public static int? ReadExitFile(string folder)
    {
        try
        {
            return int.TryParse(File.ReadAllText(Path.Combine(folder, ExitCodeFile)).Trim(), CultureInfo.InvariantCulture, out var code) ? code : null;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }
}
