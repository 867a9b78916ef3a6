using System.Runtime.InteropServices;

namespace Meeshkan.Agent.Internal;

/// <summary>The few libc calls .NET does not offer: signalling a whole process group.</summary>
internal static partial class Native
{
    public const int SIGKILL = 9;
    public const int SIGTERM = 15;

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int sig);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int link(string existing, string name);

    /// <summary>Gives a file (a socket too) a second name, as `ln` does; false when it cannot (see <see cref="LastError"/>).</summary>
    public static bool Link(string existing, string name) => link(existing, name) == 0;

    /// <summary>The last libc call's error, in words.</summary>
    public static string LastError() => Marshal.GetLastPInvokeErrorMessage();

    /// <summary>Sends <paramref name="signal"/> to every process in group <paramref name="processGroup"/>.</summary>
    public static bool SignalGroup(int processGroup, int signal) => processGroup > 1 && kill(-processGroup, signal) == 0;

    /// <summary>Sends <paramref name="signal"/> to one process.</summary>
    public static bool Signal(int pid, int signal) => pid > 1 && kill(pid, signal) == 0;

    /// <summary>True while any process of the group is alive (zombies included).</summary>
    public static bool GroupAlive(int processGroup) => processGroup > 1 && kill(-processGroup, 0) == 0;

    /// <summary>True while the process exists (zombies included).</summary>
    public static bool ProcessAlive(int pid) => pid > 1 && kill(pid, 0) == 0;

    /// <summary>The kernel's start time of a process (clock ticks since boot), or null when it is gone.
    /// Together with the pid it names a process unambiguously, even after pid reuse.</summary>
    public static long? ProcessStartTicks(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // The command name (field 2) may hold spaces and parentheses: parse after the last ')'.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return long.Parse(fields[19], System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    /// <summary>How long ago the process started, or null when it is gone (USER_HZ is 100 on every Linux ABI).</summary>
    public static TimeSpan? ProcessAge(int pid)
    {
        if (ProcessStartTicks(pid) is not { } ticks)
        {
            return null;
        }
        try
        {
            var uptime = double.Parse(File.ReadAllText("/proc/uptime").Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
            return TimeSpan.FromSeconds(Math.Max(uptime - ticks / 100.0, 0));
        }
        catch (Exception e) when (e is IOException or FormatException)
        {
            return null;
        }
    }
}
