using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Meeshkan.Agent.Executors.Local;

/// <summary>
/// Finds a job's processes in /proc: those of its session (the job's `sh` is the leader of a new session, so its
/// pid is the session id every descendant inherits) and those that left it with setsid, recognised by the
/// MEESHKAN_JOB_ID every job process inherits. The agent is a child subreaper (prctl PR_SET_CHILD_SUBREAPER), so a
/// job process whose parent died is re-parented to the agent, not to init: the agent can reap it and a process
/// that escaped is still the agent's descendant.
/// </summary>
internal static partial class JobProcesses
{
    private const int PR_SET_CHILD_SUBREAPER = 36;
    private const int WNOHANG = 1;

    /// <summary>One line of /proc/PID/stat, the fields that matter here.</summary>
    public readonly record struct Process(int Pid, char State, int ParentPid, int Group, int Session)
    {
        public bool IsZombie => State is 'Z' or 'X';
    }

    private static readonly int Agent = Environment.ProcessId;

    /// <summary>Makes this process the reaper of its orphaned descendants. False where the kernel refuses.</summary>
    public static bool BecomeSubreaper() => prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0;

    public static Process? Read(int pid) =>
        Internal.Native.Stat(pid) is { } stat ? new Process(pid, stat.State, stat.ParentPid, stat.Group, stat.Session) : null;

    /// <summary>
    /// True when nothing may be left of the job whose session leader was <paramref name="session"/>: its process group
    /// is empty and the agent has no re-parented child (orphans are re-parented to the main thread, the thread group
    /// leader; jobs' own `sh` parents are children of other threads). Two cheap reads, for the end of every job.
    /// </summary>
    public static bool SurelyGone(int session)
    {
        if (Internal.Native.GroupAlive(session))
        {
            return false;
        }
        return Internal.Native.IsEmptyFile($"/proc/{Agent}/task/{Agent}/children") == true;
    }

    /// <summary>Every process of the job, zombies included: in its session, or carrying its id after a setsid.</summary>
    public static List<Process> Of(int session, string jobId)
    {
        var found = new List<Process>();
        var marker = Encoding.UTF8.GetBytes($"MEESHKAN_JOB_ID={jobId}\0");
        var own = Read(Agent)?.Session;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || pid == Agent
                || Read(pid) is not { } process)
            {
                continue;
            }
            if (process.Session == session || (process.Session != own && HasInEnvironment(pid, marker)))
            {
                found.Add(process);
            }
        }
        return found;
    }

    /// <summary>
    /// Reaps the zombies among <paramref name="processes"/> that are the agent's children (re-parented orphans), except
    /// the jobs' own `sh` parents (<paramref name="watched"/>): the reaper reads their exit status.
    /// </summary>
    public static void ReapZombies(IEnumerable<Process> processes, Func<int, bool> watched)
    {
        foreach (var p in processes)
        {
            if (p.IsZombie && p.ParentPid == Agent && !watched(p.Pid))
            {
                waitpid(p.Pid, IntPtr.Zero, WNOHANG);
            }
        }
    }

    /// <summary>Reaps the zombies among the agent's re-parented children that belong to no session of the agent's own.</summary>
    public static void ReapOrphans(Func<int, bool> watched)
    {
        var own = Read(Agent)?.Session;
        string children;
        try
        {
            children = File.ReadAllText($"/proc/{Agent}/task/{Agent}/children");
        }
        catch (IOException)
        {
            return;
        }
        foreach (var text in children.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            // A child of the agent's own session is .NET's (e.g. the Python check); .NET reaps those.
            if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && !watched(pid)
                && Read(pid) is { IsZombie: true } p && p.Session != own)
            {
                waitpid(pid, IntPtr.Zero, WNOHANG);
            }
        }
    }

    /// <summary>True when the process's environment holds exactly <paramref name="entry"/> ("NAME=value\0").</summary>
    private static bool HasInEnvironment(int pid, byte[] entry)
    {
        try
        {
            var environment = File.ReadAllBytes($"/proc/{pid}/environ").AsSpan();
            for (var at = environment.IndexOf(entry); at >= 0;)
            {
                if (at == 0 || environment[at - 1] == 0)
                {
                    return true;
                }
                var next = environment[(at + 1)..].IndexOf(entry);
                at = next < 0 ? -1 : at + 1 + next;
            }
            return false;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int prctl(int option, ulong arg2, ulong arg3, ulong arg4, ulong arg5);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int waitpid(int pid, IntPtr status, int options);
}
