using System.Collections.Concurrent;
using System.ComponentModel;
using System.Runtime.InteropServices;

namespace Meeshkan.Agent.Executors.Local;

/// <summary>
/// One thread that waits for every job process this agent started, however many run at once: each child is watched
/// through a pidfd, all of them in one <c>poll</c> (an eventfd wakes it for a new child). When one ends it is reaped
/// (<c>waitpid</c> on that pid only: .NET's own children are left to .NET) and <paramref name="exited"/> is called
/// on this thread: it must hand off and return (a thread per job cost a thread start on every dispatch).
/// </summary>
internal sealed unsafe partial class ChildReaper
{
    private readonly ConcurrentQueue<(int Pid, int PidFd)> _added = new();
    private readonly Action<int, int?, string?> _exited;
    private readonly int _wake;

    /// <param name="exited">Called with the pid, its exit status (128 + n for signal n) or null, and why it is unknown.</param>
    public ChildReaper(Action<int, int?, string?> exited)
    {
        _exited = exited;
        _wake = eventfd(0, EFD_CLOEXEC);
        if (_wake < 0)
        {
            throw new Win32Exception(Marshal.GetLastPInvokeError(), "eventfd");
        }
        new Thread(Run) { IsBackground = true, Name = "Job reaper" }.Start();
    }

    /// <summary>Watches child <paramref name="pid"/> (started by <see cref="PosixSpawn"/>) until it ends.</summary>
    public void Watch(int pid)
    {
        var fd = (int)syscall(SYS_pidfd_open, pid, 0);
        if (fd < 0)
        {
            // Cannot happen for our own unreaped child; reap it here rather than lose its end.
            var error = Marshal.GetLastPInvokeError();
            _exited(pid, null, $"it could not be watched: {new Win32Exception(error).Message}");
            return;
        }
        _added.Enqueue((pid, fd));
        ulong one = 1;
        write(_wake, &one, sizeof(ulong));
    }

    private void Run()
    {
        var watched = new List<(int Pid, int PidFd)>();
        var fds = new PollFd[16];
        while (true)
        {
            while (_added.TryDequeue(out var child))
            {
                watched.Add(child);
            }
            if (fds.Length < watched.Count + 1)
            {
                fds = new PollFd[(watched.Count + 1) * 2];
            }
            fds[0] = new PollFd { Fd = _wake, Events = POLLIN };
            for (var i = 0; i < watched.Count; i++)
            {
                fds[i + 1] = new PollFd { Fd = watched[i].PidFd, Events = POLLIN };
            }
            int ready;
            fixed (PollFd* p = fds)
            {
                ready = poll(p, (nuint)(watched.Count + 1), -1);
            }
            if (ready < 0)
            {
                continue; // EINTR
            }
            if ((fds[0].Revents & POLLIN) != 0)
            {
                ulong count;
                read(_wake, &count, sizeof(ulong));
            }
            for (var i = watched.Count - 1; i >= 0; i--)
            {
                if (fds[i + 1].Revents == 0)
                {
                    continue;
                }
                var (pid, fd) = watched[i];
                watched.RemoveAt(i);
                close(fd);
                int? code;
                string? unknown = null;
                try
                {
                    code = PosixSpawn.WaitForExit(pid);
                }
                catch (Win32Exception e)
                {
                    code = null;
                    unknown = $"its exit status could not be read: {e.Message}";
                }
                _exited(pid, code, unknown);
            }
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    private const short POLLIN = 0x001;
    private const int EFD_CLOEXEC = 0x80000;
    private const long SYS_pidfd_open = 434; // the same number on x86_64 and arm64

    [LibraryImport("libc", SetLastError = true)]
    private static partial long syscall(long number, int pid, int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int eventfd(uint initval, int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int poll(PollFd* fds, nuint count, int timeout);

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint read(int fd, void* buffer, nuint count);

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint write(int fd, void* buffer, nuint count);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int close(int fd);
}
