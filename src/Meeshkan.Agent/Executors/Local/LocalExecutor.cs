using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using Meeshkan.Agent.Config;
using Meeshkan.Agent.Internal;
using Meeshkan.Agent.Store;
using Microsoft.Extensions.Logging;

namespace Meeshkan.Agent.Executors.Local;

/// <summary>
/// Runs jobs on this machine, the one place that starts job processes. Each job runs in its own session (so that the
/// whole tree can be signalled) and writes stdout/stderr straight to its files; none of it depends on the agent
/// staying up. Under a <see cref="JobKeeper"/> (`meeshkan start`) the agent starts the job's command itself and the
/// keeper records the ends the agent could not see; without one, the job runs under a small `sh` parent that records
/// its exit status in the job folder. Its reference for a job is "pid:start-ticks": together they name the process
/// even after its pid is reused.
/// A job has ended only when its processes have: when its first process exits, whatever is left of its session (and
/// what left the session with setsid, <see cref="JobProcesses"/>) is stopped, SIGTERM then SIGKILL, before the end is
/// reported.
/// </summary>
public sealed partial class LocalExecutor : IJobExecutor
{
    public const string ExecutorName = "local";

    // $1 is the job folder, the rest is the job's argv. The status file is read only once this `sh` has exited, so
    // the builtin echo (one small write) is enough; an `mv` for atomicity would cost a fork and an exec per job. Its
    // time of writing is the job's end time for an agent that was down then. `sh` catches SIGTERM (sent to the whole
    // group on cancel) to outlive the job and record the job's own status; the job gets the default disposition.
    private const string Wrapper =
        "trap : TERM; d=$1; shift; \"$@\" >>\"$d/stdout\" 2>>\"$d/stderr\" </dev/null; c=$?; " +
        "echo $c >\"$d/exit_code\"; exit $c";

    private static readonly TimeSpan ScanInterval = TimeSpan.FromMilliseconds(100);
    // After SIGKILL a process may still take a moment (uninterruptible I/O); past this its end is reported anyway.
    private static readonly TimeSpan KillWait = TimeSpan.FromSeconds(10);

    private const string Shell = "/bin/sh";

    private readonly AgentOptions _options;
    private readonly AgentConfig _config;
    private readonly IExecutorEvents _events;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ChildReaper _reaper;
    // The `sh` parents started here, by pid, for the reaper's callback.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<int, (long Number, string Id)> _children = new();

    public LocalExecutor(AgentOptions options, AgentConfig config, IExecutorEvents events, TimeProvider time, ILogger<LocalExecutor> logger)
    {
        _options = options;
        _config = config;
        _events = events;
        _time = time;
        _logger = logger;
        // A subreaper rather than a cgroup: it needs no privilege and no writable cgroup tree (cgroup v1 and read-only
        // in containers such as this project's machines), and it is enough to find and reap what a job leaves.
        if (!JobProcesses.BecomeSubreaper())
        {
            Log.NoSubreaper(logger);
        }
        _reaper = new ChildReaper(Reaped);
    }

    public string Name => ExecutorName;

    public ValueTask<ExecutorStart> StartAsync(JobRecord job, CancellationToken cancel)
    {
        var folder = new JobFolder(job.OutputDirectory);
        int pid;
        long ticksBefore;
        DateTimeOffset startedAt;
        try
        {
            // A new folder has no exit_code of an earlier attempt to remove (one mkdir where .NET made three calls).
            if (Native.MakeFolder(folder.Path) is not true)
            {
                Directory.CreateDirectory(folder.Path);
                File.Delete(folder.ExitCode);
            }
            // Its own session (so the whole tree can be signalled) straight from posix_spawn: one clone and one exec.
            // A `setsid` program in between cost a further exec per job, the `sh` parent an exec and a fork.
            var environment = JobEnvironment(job);
            startedAt = _time.GetUtcNow();
            ticksBefore = Native.BootTicks();
            pid = (JobKeeper.AboveThisAgent() && Program(job, environment) is { } program ? SpawnDirect(program, job, environment, folder) : null)
                ?? PosixSpawn.Start(Shell, [Shell, "-c", Wrapper, "meeshkan-job", folder.Path, .. job.Command], environment, job.WorkingDirectory);
        }
        catch (Exception e) when (e is Win32Exception or IOException or UnauthorizedAccessException)
        {
            throw new ExecutorStartException(e.Message, e);
        }
        // The kernel stamped its start between the two readings: the same tick twice is its start tick. Else (one
        // spawn in tens crosses a tick) /proc says, read before the reaper may reap it (a zombie keeps its entry).
        var ticksAfter = Native.BootTicks();
        var ticks = ticksBefore == ticksAfter ? ticksBefore : Native.ProcessStartTicks(pid);
        _children[pid] = (job.Number, job.Id);
        _reaper.Watch(pid);
        return ValueTask.FromResult(new ExecutorStart(Reference(pid, ticks), pid, startedAt));
    }

    /// <summary>
    /// The job's command with no `sh` around it. Where `sh` would decide what happens (a program it cannot find or run,
    /// a script without #!), the job gets the `sh` parent after all, so that it fails as it would in a shell.
    /// </summary>
    private static int? SpawnDirect(string program, JobRecord job, Dictionary<string, string> environment, JobFolder folder)
    {
        try
        {
            return PosixSpawn.Start(program, job.Command, environment, job.WorkingDirectory, (folder.Stdout, folder.Stderr));
        }
        catch (Win32Exception e) when (e.NativeErrorCode is ENOENT or EACCES or ENOEXEC)
        {
            return null;
        }
    }

    private const int ENOENT = 2;
    private const int ENOEXEC = 8;
    private const int EACCES = 13;

    /// <summary>The program to exec: the command's first word as given when it holds a '/', else found on the job's PATH.</summary>
    private static string? Program(JobRecord job, Dictionary<string, string> environment) =>
        job.Command[0].Contains('/') ? job.Command[0]
        : Jobs.CommandResolver.FindExecutable(job.Command[0], job.WorkingDirectory, environment.GetValueOrDefault("PATH") ?? "/usr/bin:/bin");

    /// <summary>
    /// An earlier agent's job is not our child: its end is seen by polling its pid, its status and end time read from
    /// the folder (the time exit_code was written: the agent may have been down when it ended).
    /// </summary>
    public void Reattach(JobRecord job, CancellationToken stopping)
    {
        _ = Task.Run(async () =>
        {
            var (pid, ticks) = Parse(job.ExecutorReference);
            try
            {
                while (IsSameProcessAlive(pid, ticks))
                {
                    await Task.Delay(_options.AdoptedJobPollInterval, stopping).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException)
            {
                return; // the agent stops; the next one re-attaches
            }
            var (code, endedAt) = await RecordedEndAsync(job, pid).ConfigureAwait(false);
            await EndWhenGoneAsync(job.Number, job.Id, pid, code,
                code is null ? "the job ended while no agent was watching, without recording its exit status" : null, endedAt).ConfigureAwait(false);
        }, CancellationToken.None);
    }

    /// <summary>
    /// How an earlier agent's job ended, as recorded while no agent watched: by its `sh` parent in the job folder, or by
    /// the keeper that took it over (which records it just before the process is gone: a zombie is waited for).
    /// </summary>
    private async Task<(int? Code, DateTimeOffset? EndedAt)> RecordedEndAsync(JobRecord job, int pid)
    {
        var folder = job.Folder;
        for (var waited = 0; ; waited++)
        {
            if (JobFolder.ReadExitCode(folder.Path) is { } code)
            {
                return (code, new DateTimeOffset(File.GetLastWriteTimeUtc(folder.ExitCode), TimeSpan.Zero));
            }
            if (JobKeeper.EndedWhileAway(_options.Home, job.ExecutorReference) is { } kept)
            {
                return (kept.ExitCode, kept.EndedAt);
            }
            if (waited >= 50 || !Native.ProcessAlive(pid))
            {
                return (null, null);
            }
            await Task.Delay(20).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// SIGTERM to the job's whole process group and to what left it with setsid, SIGKILL to what is left after
    /// <paramref name="grace"/>. Its end is reported by the reaper once its `sh` and every other process are gone.
    /// </summary>
    public Task TerminateAsync(JobRecord job, TimeSpan grace) => StopAllAsync(Parse(job.ExecutorReference).Pid, job.Id, grace);

    /// <summary>The environment a job runs with: the submitter's, and where to find this agent.</summary>
    public Dictionary<string, string> JobEnvironment(JobRecord job)
    {
        var env = new Dictionary<string, string>(job.Environment ?? new Dictionary<string, string>());
        env["MEESHKAN_JOB_ID"] = job.Id;
        env["MEESHKAN_JOB_NUMBER"] = job.Number.ToString(CultureInfo.InvariantCulture);
        env["MEESHKAN_HOME"] = _options.Home.Root;
        env["MEESHKAN_JOB_FOLDER"] = job.OutputDirectory;
        env["MEESHKAN_SOCKET"] = _options.Home.SocketPath;
        env["MEESHKAN_CLI"] = _options.CliPath;
        env["PYTHONPATH"] = env.TryGetValue("PYTHONPATH", out var existing) && existing.Length > 0
            ? _options.PythonClientPath + ":" + existing
            : _options.PythonClientPath;
        // Logs are read while the job runs: without this, Python holds print() output back in 8 KB blocks.
        env.TryAdd("PYTHONUNBUFFERED", "1");
        return env;
    }

    /// <summary>On the reaper's thread: a job's `sh` has exited. Its end is reported once nothing of it runs any more.</summary>
    private void Reaped(int pid, int? exitCode, string? unknown)
    {
        if (!_children.TryRemove(pid, out var job))
        {
            return;
        }
        if (JobProcesses.SurelyGone(pid))
        {
            _events.Exited(new JobExit(job.Number, exitCode, _time.GetUtcNow(), unknown));
            return;
        }
        _ = Task.Run(() => EndWhenGoneAsync(job.Number, job.Id, pid, exitCode, unknown, endedAt: null));
    }

    /// <summary>Stops what is left of a job whose `sh` has exited, then reports its end.</summary>
    private async Task EndWhenGoneAsync(long number, string id, int session, int? exitCode, string? unknown, DateTimeOffset? endedAt)
    {
        try
        {
            var left = Running(session, id);
            if (left.Count > 0)
            {
                Log.StoppingLeftovers(_logger, number, left.Count, string.Join(", ", left.Select(p => p.Pid)));
                await StopAllAsync(session, id, TimeSpan.FromSeconds(_config.CancelGraceSeconds)).ConfigureAwait(false);
                Log.LeftoversGone(_logger, number);
                endedAt = null;
            }
            JobProcesses.ReapOrphans(_children.ContainsKey);
        }
        catch (Exception e)
        {
            Log.LeftoversFailed(_logger, number, e);
        }
        _events.Exited(new JobExit(number, exitCode, endedAt ?? _time.GetUtcNow(), unknown));
    }

    /// <summary>SIGTERM to every process of the job, SIGKILL after <paramref name="grace"/>; returns when all are gone.</summary>
    private async Task StopAllAsync(int session, string id, TimeSpan grace)
    {
        Signal(session, id, Native.SIGTERM);
        var clock = Stopwatch.StartNew();
        while (Running(session, id).Count > 0)
        {
            if (clock.Elapsed >= grace)
            {
                Signal(session, id, Native.SIGKILL);
                var killed = Stopwatch.StartNew();
                while (Running(session, id).Count > 0 && killed.Elapsed < KillWait)
                {
                    await Task.Delay(ScanInterval).ConfigureAwait(false);
                }
                return;
            }
            await Task.Delay(ScanInterval).ConfigureAwait(false);
        }
    }

    private void Signal(int session, string id, int signal)
    {
        Native.SignalGroup(session, signal);
        foreach (var process in JobProcesses.Of(session, id).Where(p => !p.IsZombie))
        {
            Native.Signal(process.Pid, signal);
        }
    }

    /// <summary>The job's processes that still run, after reaping those that are the agent's zombies.</summary>
    private List<JobProcesses.Process> Running(int session, string id)
    {
        var all = JobProcesses.Of(session, id);
        JobProcesses.ReapZombies(all, _children.ContainsKey);
        return all.Where(p => !p.IsZombie).ToList();
    }

    public static string Reference(int pid, long? startTicks) =>
        startTicks is { } t ? string.Create(CultureInfo.InvariantCulture, $"{pid}:{t}") : pid.ToString(CultureInfo.InvariantCulture);

    /// <summary>The pid and start ticks in a reference ("pid" alone when the ticks could not be read).</summary>
    public static (int Pid, long? StartTicks) Parse(string? reference)
    {
        var parts = (reference ?? "").Split(':');
        var pid = int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var p) ? p : 0;
        long? ticks = parts.Length > 1 && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var t) ? t : null;
        return (pid, ticks);
    }

    private static bool IsSameProcessAlive(int pid, long? ticks) =>
        pid > 1 && Native.Stat(pid) is { } now && (ticks is null || ticks == now.StartTicks) && now.State != 'Z';

    private static partial class Log
    {
        [LoggerMessage(LogEvents.Executors + 1, LogLevel.Information, "Job {Number}'s main process has exited; stopping the {Count} process(es) it left running (pids {Pids}): SIGTERM, then SIGKILL after the grace period")]
        public static partial void StoppingLeftovers(ILogger logger, long number, int count, string pids);

        [LoggerMessage(LogEvents.Executors + 2, LogLevel.Information, "Job {Number}: every process it left is gone")]
        public static partial void LeftoversGone(ILogger logger, long number);

        [LoggerMessage(LogEvents.Executors + 3, LogLevel.Error, "Job {Number}: the processes it left could not all be stopped")]
        public static partial void LeftoversFailed(ILogger logger, long number, Exception exception);

        [LoggerMessage(LogEvents.Executors + 4, LogLevel.Warning, "This agent cannot be a child subreaper (prctl PR_SET_CHILD_SUBREAPER): processes of jobs that lose their parent are re-parented to init; they are still found by their session and MEESHKAN_JOB_ID")]
        public static partial void NoSubreaper(ILogger logger);
    }
}
