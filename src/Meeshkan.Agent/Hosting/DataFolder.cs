using System.Runtime.InteropServices;
using System.Text;

namespace Meeshkan.Agent.Hosting;

/// <summary>The data folder cannot be used, for a reason its message says in full (shown as it is).</summary>
public sealed class DataFolderException(string message) : IOException(message);

/// <summary>
/// Makes the data folder ready and refuses one that is not safely the user's own, as ssh's StrictModes does: the
/// folder, each file and folder directly in it and each file in <c>logs/</c> must belong to the user running the
/// agent and must not be writable by group or others. Whoever could write there could replace the config (and so
/// receive every job's command and output through their own webhook), read the log or swap the database. The folder
/// itself, <c>logs/</c> and <c>jobs/</c> are made 0700 and the agent's log 0600. The folders above the data folder
/// and the job folders' contents are not checked.
/// </summary>
public static partial class DataFolder
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode OwnerReadWrite = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>Creates what is missing, tightens the modes of what is the user's own, and refuses the rest.</summary>
    /// <exception cref="DataFolderException">A folder or file belongs to another user or is writable by others.</exception>
    /// <exception cref="DataFolderException">Its socket path would be too long.</exception>
    /// <exception cref="IOException">The folder cannot be made.</exception>
    public static void Prepare(MeeshkanHome home)
    {
        if (Encoding.UTF8.GetByteCount(home.SocketPath) > 107)
        {
            throw new DataFolderException($"the socket path {home.SocketPath} is longer than the 107 bytes Unix allows; use a shorter MEESHKAN_HOME");
        }
        // Made first and checked after: a folder someone else makes in between is caught by the check.
        Directory.CreateDirectory(home.Root, OwnerOnly);
        Check(home.Root);
        File.SetUnixFileMode(home.Root, OwnerOnly);
        foreach (var entry in Directory.EnumerateFileSystemEntries(home.Root))
        {
            Check(entry);
        }
        foreach (var folder in new[] { home.JobsFolder, home.LogFolder })
        {
            Directory.CreateDirectory(folder, OwnerOnly);
            Check(folder);
            File.SetUnixFileMode(folder, OwnerOnly);
        }
        foreach (var entry in Directory.EnumerateFileSystemEntries(home.LogFolder))
        {
            Check(entry);
        }
        // The agent's output is appended to it by `meeshkan start`: private from its first byte.
        new FileStream(home.AgentLog, new FileStreamOptions
        {
            Mode = FileMode.Append, Access = FileAccess.Write, Share = FileShare.ReadWrite, UnixCreateMode = OwnerReadWrite,
        }).Dispose();
        File.SetUnixFileMode(home.AgentLog, OwnerReadWrite);
    }

    /// <summary>Refuses <paramref name="path"/> (followed if a link) when another user owns it or others may write it.</summary>
    private static void Check(string path)
    {
        if (!Stat(path, out var owner, out var mode))
        {
            return; // gone meanwhile (a job folder's temp file, a stale socket being removed)
        }
        var me = geteuid();
        if (owner != me)
        {
            throw new DataFolderException(
                $"{path} belongs to another user (uid {owner}), not to you (uid {me}); they could read and change what the agent keeps there. Use a data folder of your own (MEESHKAN_HOME) or remove it");
        }
        if ((mode & 0b000_010_010) != 0)
        {
            throw new DataFolderException(
                $"{path} is writable by {((mode & 0b010) != 0 ? "others" : "its group")} (mode {Convert.ToString(mode & 0xfff, 8).PadLeft(4, '0')}); run `chmod go-w {path}` or use another data folder");
        }
    }

    private const int AT_FDCWD = -100;
    private const uint STATX_MODE = 0x2;
    private const uint STATX_UID = 0x8;

    /// <summary>statx, whose buffer has one layout on every architecture: uid at byte 20, mode at byte 28.</summary>
    private static unsafe bool Stat(string path, out uint owner, out int mode)
    {
        var buffer = stackalloc byte[256];
        if (statx(AT_FDCWD, path, 0, STATX_MODE | STATX_UID, buffer) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno == 2) // ENOENT
            {
                owner = 0;
                mode = 0;
                return false;
            }
            throw new IOException($"cannot check {path}: {Marshal.GetPInvokeErrorMessage(errno)}");
        }
        owner = *(uint*)(buffer + 20);
        mode = *(ushort*)(buffer + 28);
        return true;
    }

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int statx(int dirfd, string path, int flags, uint mask, byte* buffer);

    [LibraryImport("libc")]
    private static partial uint geteuid();
}
