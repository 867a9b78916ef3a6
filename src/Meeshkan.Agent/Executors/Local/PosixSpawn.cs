using System.ComponentModel;
using System.Runtime.InteropServices;
using System.Text;

namespace Meeshkan.Agent.Executors.Local;

/// <summary>
/// Starts a process in a new session with one <c>posix_spawn</c> (glibc: a vfork-style clone and one exec), and waits
/// for it with <c>waitpid</c>. .NET's <c>Process</c> can neither start a session nor skip its own preparations, and
/// a <c>setsid</c> executable in between costs an extra exec per job (bench/notes.md). The child keeps only
/// descriptors 0, 1 and 2.
/// </summary>
internal static unsafe partial class PosixSpawn
{
    private const short POSIX_SPAWN_SETSIGDEF = 0x04;
    private const short POSIX_SPAWN_SETSIGMASK = 0x08;
    private const short POSIX_SPAWN_SETSID = 0x80;
    private const int EINTR = 4;
    private const int O_RDONLY = 0;
    private const int O_WRONLY = 1;
    private const int O_CREAT = 0x40;
    private const int O_APPEND = 0x400;

    // glibc x86_64/arm64: posix_spawnattr_t is 336 bytes, posix_spawn_file_actions_t 80, sigset_t 128; room to spare.
    private const int AttrSize = 1024;
    private const int ActionsSize = 256;
    private const int SigsetSize = 256;

    /// <summary>
    /// Starts <paramref name="path"/> with <paramref name="argv"/> and <paramref name="environment"/> in
    /// <paramref name="workingDirectory"/>, as the leader of a new session, every signal at its default disposition
    /// and none blocked (the agent's own ignored SIGPIPE must not leak into the job). Returns the pid.
    /// </summary>
    /// <param name="output">Where its stdout and stderr go (appended, made if missing) with stdin from /dev/null;
    /// null: it keeps the agent's.</param>
    /// <exception cref="Win32Exception">The process could not start (missing folder, program, permission).</exception>
    public static int Start(string path, IReadOnlyList<string> argv, IEnumerable<KeyValuePair<string, string>> environment, string workingDirectory,
        (string Stdout, string Stderr)? output = null)
    {
        var strings = new List<nint>();
        var attr = stackalloc byte[AttrSize];
        var actions = stackalloc byte[ActionsSize];
        var all = stackalloc byte[SigsetSize];
        var none = stackalloc byte[SigsetSize];
        try
        {
            var cPath = Utf8(path, strings);
            var cDirectory = Utf8(workingDirectory, strings);
            var cArgv = NullTerminated(argv, strings);
            var cEnv = NullTerminated(environment.Select(e => e.Key + "=" + e.Value).ToList(), strings);

            Check(posix_spawnattr_init(attr), "posix_spawnattr_init");
            Check(posix_spawn_file_actions_init(actions), "posix_spawn_file_actions_init");
            try
            {
                sigfillset(all);
                sigemptyset(none);
                Check(posix_spawnattr_setsigdefault(attr, all), "posix_spawnattr_setsigdefault");
                Check(posix_spawnattr_setsigmask(attr, none), "posix_spawnattr_setsigmask");
                Check(posix_spawnattr_setflags(attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK), "posix_spawnattr_setflags");
                if (output is var (stdout, stderr))
                {
                    // Opened before the chdir: the paths are the agent's, absolute or not.
                    Check(posix_spawn_file_actions_addopen(actions, 0, Utf8("/dev/null", strings), O_RDONLY, 0), "posix_spawn_file_actions_addopen");
                    Check(posix_spawn_file_actions_addopen(actions, 1, Utf8(stdout, strings), O_WRONLY | O_CREAT | O_APPEND, 0x1b6), "posix_spawn_file_actions_addopen");
                    Check(posix_spawn_file_actions_addopen(actions, 2, Utf8(stderr, strings), O_WRONLY | O_CREAT | O_APPEND, 0x1b6), "posix_spawn_file_actions_addopen");
                }
                Check(posix_spawn_file_actions_addchdir_np(actions, cDirectory), "posix_spawn_file_actions_addchdir_np");
                // The job gets stdin, stdout and stderr only, whatever the agent has open (glibc 2.34+).
                Check(posix_spawn_file_actions_addclosefrom_np(actions, 3), "posix_spawn_file_actions_addclosefrom_np");
                int pid;
                var error = posix_spawn(&pid, cPath, actions, attr, cArgv, cEnv);
                if (error != 0)
                {
                    throw new Win32Exception(error, $"{new Win32Exception(error).Message} (program {path}, working directory {workingDirectory})");
                }
                return pid;
            }
            finally
            {
                posix_spawn_file_actions_destroy(actions);
                posix_spawnattr_destroy(attr);
            }
        }
        finally
        {
            foreach (var p in strings)
            {
                NativeMemory.Free((void*)p);
            }
        }
    }

    /// <summary>
    /// Blocks until child <paramref name="pid"/> ends and reaps it: its exit status, or 128 + the signal that killed
    /// it (as a shell reports it). Only for children started by <see cref="Start"/>: .NET reaps only its own.
    /// </summary>
    public static int WaitForExit(int pid)
    {
        int status;
        while (waitpid(pid, &status, 0) < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno != EINTR)
            {
                throw new Win32Exception(errno, $"waitpid({pid})");
            }
        }
        var signal = status & 0x7f;
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal;
    }

    private static void Check(int error, string call)
    {
        if (error != 0)
        {
            throw new Win32Exception(error, $"{call}: {new Win32Exception(error).Message}");
        }
    }

    private static byte* Utf8(string text, List<nint> owned)
    {
        var count = Encoding.UTF8.GetByteCount(text);
        var buffer = (byte*)NativeMemory.Alloc((nuint)count + 1);
        owned.Add((nint)buffer);
        Encoding.UTF8.GetBytes(text, new Span<byte>(buffer, count));
        buffer[count] = 0;
        return buffer;
    }

    private static byte** NullTerminated(IReadOnlyList<string> items, List<nint> owned)
    {
        var array = (byte**)NativeMemory.Alloc((nuint)(items.Count + 1), (nuint)sizeof(nint));
        owned.Add((nint)array);
        for (var i = 0; i < items.Count; i++)
        {
            array[i] = Utf8(items[i], owned);
        }
        array[items.Count] = null;
        return array;
    }

    [LibraryImport("libc")]
    private static partial int posix_spawn(int* pid, byte* path, void* fileActions, void* attr, byte** argv, byte** envp);

    [LibraryImport("libc")]
    private static partial int posix_spawnattr_init(void* attr);

    [LibraryImport("libc")]
    private static partial int posix_spawnattr_destroy(void* attr);

    [LibraryImport("libc")]
    private static partial int posix_spawnattr_setflags(void* attr, short flags);

    [LibraryImport("libc")]
    private static partial int posix_spawnattr_setsigdefault(void* attr, void* sigset);

    [LibraryImport("libc")]
    private static partial int posix_spawnattr_setsigmask(void* attr, void* sigset);

    [LibraryImport("libc")]
    private static partial int posix_spawn_file_actions_init(void* actions);

    [LibraryImport("libc")]
    private static partial int posix_spawn_file_actions_destroy(void* actions);

    [LibraryImport("libc")]
    private static partial int posix_spawn_file_actions_addchdir_np(void* actions, byte* path);

    [LibraryImport("libc")]
    private static partial int posix_spawn_file_actions_addopen(void* actions, int fd, byte* path, int flags, uint mode);

    [LibraryImport("libc")]
    private static partial int posix_spawn_file_actions_addclosefrom_np(void* actions, int from);

    [LibraryImport("libc")]
    private static partial int sigfillset(void* set);

    [LibraryImport("libc")]
    private static partial int sigemptyset(void* set);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int waitpid(int pid, int* status, int options);
}
