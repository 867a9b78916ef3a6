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
    public static long? ProcessStartTicks(int pid) => Stat(pid)?.StartTicks;

    /// <summary>
    /// Now in the clock /proc/PID/stat counts a process's start time in: clock ticks (USER_HZ) since boot
    /// (CLOCK_BOOTTIME, as the kernel stamps a new process). Read just before and just after a fork, the same value
    /// twice is the child's start time without reading /proc (which, right after an exec, waits on the new program's
    /// loading: a tenth of the run loop's time).
    /// </summary>
    public static long BootTicks()
    {
        Timespec now;
        unsafe
        {
            clock_gettime(CLOCK_BOOTTIME, &now);
        }
        return (now.Seconds * NanosecondsPerSecond + now.Nanoseconds) / (NanosecondsPerSecond / TicksPerSecond);
    }

    private const int CLOCK_BOOTTIME = 7;
    private const long NanosecondsPerSecond = 1_000_000_000;
    private static readonly long TicksPerSecond = sysconf(SC_CLK_TCK) is > 0 and var hz ? hz : 100;
    private const int SC_CLK_TCK = 2;

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc")]
    private static unsafe partial int clock_gettime(int clock, Timespec* time);

    [LibraryImport("libc")]
    private static partial long sysconf(int name);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int mkdir(string path, uint mode);

    /// <summary>Creates one folder (0777 less the umask, as .NET's): true when it was made now, false when it was there
    /// already; null when it could not be made (its parent missing, say).</summary>
    public static bool? MakeFolder(string path)
    {
        if (mkdir(path, 0b111_111_111) == 0)
        {
            return true;
        }
        return Marshal.GetLastPInvokeError() == EEXIST ? false : null;
    }

    private const int EEXIST = 17;

    /// <summary>What /proc/PID/stat says of a process: its state letter, parent, group, session and start time.</summary>
    public readonly record struct ProcessStat(char State, int ParentPid, int Group, int Session, long StartTicks);

    /// <summary>
    /// /proc/PID/stat of a process, or null when it is gone: one open, one read and one close (it is read at every
    /// job's start and end, where a .NET file read costs three times the calls and a string).
    /// </summary>
    public static ProcessStat? Stat(int pid)
    {
        Span<byte> buffer = stackalloc byte[1024];
        var length = ReadSmallFile($"/proc/{pid}/stat", buffer);
        if (length <= 0)
        {
            return null;
        }
        // The command name (field 2) may hold spaces and parentheses: the fields are counted after the last ')'.
        var text = buffer[..length];
        var close = text.LastIndexOf((byte)')');
        if (close < 0 || close + 2 >= length)
        {
            return null;
        }
        ReadOnlySpan<byte> rest = text[(close + 2)..];
        char state = (char)rest[0];
        Span<long> numbers = stackalloc long[20];
        var field = 0;
        foreach (var range in rest.Split((byte)' '))
        {
            if (field is 1 or 2 or 3 or 19)
            {
                if (!System.Buffers.Text.Utf8Parser.TryParse(rest[range], out long value, out _))
                {
                    return null;
                }
                numbers[field] = value;
            }
            if (++field > 19)
            {
                break;
            }
        }
        return field > 19 ? new ProcessStat(state, (int)numbers[1], (int)numbers[2], (int)numbers[3], numbers[19]) : null;
    }

    /// <summary>Whether a small file (in /proc) is empty; null when it cannot be read.</summary>
    public static bool? IsEmptyFile(string path)
    {
        Span<byte> buffer = stackalloc byte[8];
        var length = ReadSmallFile(path, buffer);
        return length < 0 ? null : length == 0;
    }

    /// <summary>The first bytes of a file in one read: how many, or -1 when it cannot be opened or read.</summary>
    private static int ReadSmallFile(string path, Span<byte> buffer)
    {
        var fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
        {
            return -1;
        }
        try
        {
            unsafe
            {
                fixed (byte* b = buffer)
                {
                    return (int)read(fd, b, (nint)buffer.Length);
                }
            }
        }
        finally
        {
            _ = close(fd);
        }
    }

    private const int O_RDONLY = 0;
    private const int O_CLOEXEC = 0x80000;

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int open(string path, int flags);

    [LibraryImport("libc")]
    private static unsafe partial nint read(int fd, byte* buffer, nint count);

    [LibraryImport("libc")]
    private static partial int close(int fd);

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
