using System.Runtime.InteropServices;

namespace Meeshkan.Agent.Hosting;

/// <summary>
/// Closes the file descriptors the agent inherited beyond stdin, stdout and stderr (say `meeshkan start 7&gt;fifo`):
/// left open they would keep that fifo or file open for the agent's life and pass it to every job. The runtime opens
/// its own descriptors close-on-exec, so a descriptor above 2 without FD_CLOEXEC at start-up came from the parent.
/// (Jobs are also started with every descriptor above 2 closed: <c>PosixSpawn</c>.)
/// </summary>
internal static partial class InheritedDescriptors
{
    private const int F_GETFD = 1;
    private const int FD_CLOEXEC = 1;

    /// <returns>How many were closed.</returns>
    public static int Close()
    {
        string[] entries;
        try
        {
            entries = Directory.GetFileSystemEntries("/proc/self/fd");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
        var closed = 0;
        foreach (var entry in entries)
        {
            if (int.TryParse(Path.GetFileName(entry), out var fd) && fd > 2 && fcntl(fd, F_GETFD) is var flags and >= 0
                && (flags & FD_CLOEXEC) == 0 && close(fd) == 0)
            {
                closed++;
            }
        }
        return closed;
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int fcntl(int fd, int cmd);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int close(int fd);
}
