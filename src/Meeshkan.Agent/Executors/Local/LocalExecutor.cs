using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using Meeshkan.Agent.Internal;
using Meeshkan.Agent.Store;

namespace Meeshkan.Agent.Executors.Local;

/// <summary>
/// Runs jobs on this machine, the one place that starts job processes. Each job runs under a small `sh` parent in
/// its own session (so that the whole tree can be signalled), writes stdout/stderr straight to its files, and records
/// its exit status in the job folder, so none of it depends on the agent staying up. Its reference for a job is
/// "pid:start-ticks": together they name the process even after its pid is reused.
/// </summary>
public sealed class LocalExecutor : IJobExecutor
{
    public const string ExecutorName = "local";

    // $1 is the job folder, the rest is the job's argv. The status file is read only once this `sh` has exited, so
    // the builtin echo (one small write) is enough; an `mv` for atomicity would cost a fork and an exec per job.
    private const string Wrapper =
        "d=$1; shift; \"$@\" >>\"$d/stdout\" 2>>\"$d/stderr\" </dev/null; c=$?; " +
        "echo $c >\"$d/exit_code\"; exit $c";


    private const string Shell = "/bin/sh";

    private readonly AgentOptions _options;
    private readonly IExecutorEvents _events;
    private readonly TimeProvider _time;
    private readonly ChildReaper _reaper;
    // The `sh` parents started here, by pid, for the reaper's callback.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<int, (long Number, string Id)> _children = new();

    public LocalExecutor(AgentOptions options, IExecutorEvents events, TimeProvider time)
    {
        _options = options;
        _events = events;
        _time = time;
        _reaper = new ChildReaper(Reaped);
    }

    public string Name => ExecutorName;

    public ValueTask<ExecutorStart> StartAsync(JobRecord job, CancellationToken cancel)
    {
        var folder = new JobFolder(job.OutputDirectory);
        int pid;
        try
        {
            Directory.CreateDirectory(folder.Path);
            File.Delete(folder.ExitCode);
            // Its own session (so the whole tree can be signalled) straight from posix_spawn: one clone and one exec of
            // `sh`, which forks the job. A `setsid` program in between cost a further exec per job.
            pid = PosixSpawn.Start(Shell, [Shell, "-c", Wrapper, "meeshkan-job", folder.Path, .. job.Command],
                JobEnvironment(job), job.WorkingDirectory);
        }
        catch (Exception e) when (e is Win32Exception or IOException or UnauthorizedAccessException)
        {
            throw new ExecutorStartException(e.Message, e);
        }
        // Read before the reaper may reap it: a zombie still has its /proc entry.
        var ticks = Native.ProcessStartTicks(pid);
        _children[pid] = (job.Number, job.Id);
        _reaper.Watch(pid);
        return ValueTask.FromResult(new ExecutorStart(Reference(pid, ticks), pid));
    }

    /// <summary>An earlier agent's job is not our child: its end is seen by polling its pid, its status read from the folder.</summary>
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
            var now = _time.GetUtcNow();
            _events.Exited(JobFolder.ReadExitCode(job.OutputDirectory) is { } code
                ? new JobExit(job.Number, code, now)
                : new JobExit(job.Number, null, now, "the job ended while no agent was watching, without recording its exit status"));
        }, CancellationToken.None);
    }

    /// <summary>SIGTERM to the job's whole process group, then SIGKILL after <paramref name="grace"/>.</summary>
    public async Task TerminateAsync(JobRecord job, TimeSpan grace)
    {
        var (pid, _) = Parse(job.ExecutorReference);
        Native.SignalGroup(pid, Native.SIGTERM);
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < grace && Native.GroupAlive(pid))
        {
            await Task.Delay(50).ConfigureAwait(false);
        }
        if (Native.GroupAlive(pid))
        {
            Native.SignalGroup(pid, Native.SIGKILL);
        }
    }

    /// <summary>The environment a job runs with: the submitter's, and where to find this agent.</summary>
    public IEnumerable<KeyValuePair<string, string>> JobEnvironment(JobRecord job)
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

    private void Reaped(int pid, int? exitCode, string? unknown)
    {
        if (_children.TryRemove(pid, out var job))
        {
            _events.Exited(new JobExit(job.Number, exitCode, _time.GetUtcNow(), unknown));
        }
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
        pid > 1 && Native.ProcessStartTicks(pid) is { } now && (ticks is null || ticks == now) && !IsZombie(pid);

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
}
