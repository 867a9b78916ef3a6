using System.ComponentModel;
using System.Globalization;
using System.Runtime.InteropServices;

namespace Meeshkan.Agent.Executors.Local;

/// <summary>
/// The agent's parent when `meeshkan start` runs it: a small process that outlives the agent and records how the jobs
/// the agent started ended while no agent was there to see it. It is a child subreaper, so when the agent dies (or
/// stops while jobs run on) the agent's job processes become its children: it reaps each as it ends and appends its
/// reference ("pid:start-ticks"), exit status and end time to <see cref="EndsFile"/>, where the next agent finds them
/// (<see cref="EndedWhileAway"/>). With a keeper above it the agent starts a job's command itself, with no `sh` in
/// between to record the status (an exec and a fork less per job); without one (`meeshkan agent` in the foreground),
/// each job keeps its own `sh` parent, which writes the status to the job folder. The keeper exits with the agent's
/// exit status once the agent and every job it was left are gone.
/// </summary>
public static unsafe partial class JobKeeper
{
    /// <summary>The keeper's pid, in the agent's environment: the agent checks that it is still its parent.</summary>
    public const string Variable = "MEESHKAN_KEEPER_PID";

    /// <summary>The command that runs a keeper (and its agent): internal, `meeshkan start` runs it.</summary>
    public const string Command = "job-keeper";

    private const int P_ALL = 0;
    private const int WEXITED = 4;
    private const int WNOWAIT = 0x01000000;
    private const int CLD_EXITED = 1;
    private const int EINTR = 4;

    /// <summary>Where the keeper records the ends it saw (one line each: reference, exit status, end time in Unix ms).</summary>
    public static string EndsFile(MeeshkanHome home) => Path.Combine(home.Root, "ended-while-away");

    // The keeper this process was started under (0: none), read once.
    private static readonly int Keeper =
        int.TryParse(Environment.GetEnvironmentVariable(Variable), NumberStyles.None, CultureInfo.InvariantCulture, out var keeper) && keeper > 1 ? keeper : 0;

    /// <summary>True when this process runs under a keeper that is still its parent (one getppid at each start).</summary>
    public static bool AboveThisAgent() => Keeper > 0 && getppid() == Keeper;

    /// <summary>Starts the agent (<paramref name="agent"/>: its argv) under this process and keeps its jobs' ends until all are gone.</summary>
    public static int Run(MeeshkanHome home, IReadOnlyList<string> agent)
    {
        JobProcesses.BecomeSubreaper();
        var environment = Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
            .ToDictionary(e => (string)e.Key, e => (string?)e.Value ?? "");
        environment[Variable] = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        int agentPid;
        try
        {
            agentPid = PosixSpawn.Start(agent[0], agent, environment, Environment.CurrentDirectory);
        }
        catch (Win32Exception e)
        {
            Console.Error.WriteLine($"FATAL: the agent could not be started: {e.Message}");
            return 1;
        }
        var agentExit = 1;
        var info = stackalloc byte[128];
        while (true)
        {
            // Waits without reaping first: the start time is read while the process is still there (a zombie).
            if (waitid(P_ALL, 0, info, WEXITED | WNOWAIT) < 0)
            {
                if (Marshal.GetLastPInvokeError() == EINTR)
                {
                    continue;
                }
                return agentExit; // ECHILD: the agent and every job left to this keeper are gone
            }
            var pid = *(int*)(info + 16);
            var status = *(int*)(info + 24);
            var exit = *(int*)(info + 8) == CLD_EXITED ? status : 128 + status;
            if (pid == agentPid)
            {
                agentExit = exit;
            }
            else
            {
                Record(home, LocalExecutor.Reference(pid, Internal.Native.ProcessStartTicks(pid)), exit);
            }
            waitpid(pid, null, 0);
        }
    }

    /// <summary>How the process named <paramref name="reference"/> ended, as a keeper recorded it; null when none did.</summary>
    public static (int ExitCode, DateTimeOffset EndedAt)? EndedWhileAway(MeeshkanHome home, string? reference)
    {
        if (reference is null)
        {
            return null;
        }
        try
        {
            foreach (var line in File.ReadLines(EndsFile(home)).Reverse())
            {
                if (line.Split(' ') is [var named, var code, var ms] && named == reference
                    && int.TryParse(code, NumberStyles.None, CultureInfo.InvariantCulture, out var exit)
                    && long.TryParse(ms, NumberStyles.None, CultureInfo.InvariantCulture, out var at))
                {
                    return (exit, DateTimeOffset.FromUnixTimeMilliseconds(at));
                }
            }
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
        }
        return null;
    }

    private static void Record(MeeshkanHome home, string reference, int exit)
    {
        try
        {
            // One short append per end: lines from keepers of several agents' lives do not mix.
            File.AppendAllText(EndsFile(home), string.Create(CultureInfo.InvariantCulture,
                $"{reference} {exit} {DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()}\n"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"meeshkan keeper: the end of process {reference} (exit status {exit}) could not be recorded: {e.Message}");
        }
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int waitid(int idtype, int id, void* info, int options);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int waitpid(int pid, int* status, int options);

    [LibraryImport("libc")]
    private static partial int getppid();
}
