using System.ComponentModel;
using System.Runtime.InteropServices;

namespace Meeshkan.Agent.Executors.Local;

/// <summary>
/// One thread that waits for every job process this agent started, however many run at once: each child is watched
/// through a pidfd in one epoll set (added by the starting thread, so a start does not wake this one). When one ends
/// it is reaped (<c>waitpid</c> on that pid only: .NET's own children are left to .NET) and <paramref name="exited"/>
/// is called on this thread: it must hand off and return (a thread per job cost a thread start on every dispatch).
/// </summary>
internal sealed unsafe partial class ChildReaper
{
    private readonly Action<int, int?, string?> _exited;
    private readonly int _epoll;

    /// <param name="exited">Called with the pid, its exit status (128 + n for signal n) or null, and why it is unknown.</param>
    public ChildReaper(Action<int, int?, string?> exited)
    {
        _exited = exited;
        _epoll = epoll_create1(EPOLL_CLOEXEC);
        if (_epoll < 0)
        {
            throw new Win32Exception(Marshal.GetLastPInvokeError(), "epoll_create1");
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
        // The pid and its pidfd travel in the event's data. A child that has already ended is ready at once.
        var watch = new EpollEvent { Events = EPOLLIN | EPOLLONESHOT, Data = ((ulong)(uint)pid << 32) | (uint)fd };
        if (epoll_ctl(_epoll, EPOLL_CTL_ADD, fd, &watch) < 0)
        {
            var error = Marshal.GetLastPInvokeError();
            close(fd);
            _exited(pid, PosixSpawn.WaitForExit(pid), $"it could not be watched: {new Win32Exception(error).Message}");
        }
    }

    private void Run()
    {
        const int Batch = 64;
        var events = stackalloc EpollEvent[Batch];
        while (true)
        {
            var ready = epoll_wait(_epoll, events, Batch, -1);
            for (var i = 0; i < ready; i++)
            {
                var pid = (int)(events[i].Data >> 32);
                var fd = (int)(uint)events[i].Data;
                close(fd); // closing a pidfd takes it out of the set
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
            // ready < 0: EINTR, wait again
        }
    }

    // struct epoll_event as x86_64 lays it out: packed, 12 bytes (the agent is built for linux-x64).
    [StructLayout(LayoutKind.Sequential, Pack = 4)]
    private struct EpollEvent
    {
        public uint Events;
        public ulong Data;
    }

    private const uint EPOLLIN = 0x001;
    private const uint EPOLLONESHOT = 1u << 30;
    private const int EPOLL_CTL_ADD = 1;
    private const int EPOLL_CLOEXEC = 0x80000;
    private const long SYS_pidfd_open = 434; // the same number on x86_64 and arm64

    [LibraryImport("libc", SetLastError = true)]
    private static partial long syscall(long number, int pid, int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int epoll_create1(int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int epoll_ctl(int epoll, int op, int fd, EpollEvent* watch);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int epoll_wait(int epoll, EpollEvent* events, int count, int timeout);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int close(int fd);
}
