using Microsoft.Data.Sqlite;

namespace Meeshkan.Agent.Store;

/// <summary>
/// The data folder's disk is full: how a failed write says so (SQLite's SQLITE_FULL, the kernel's ENOSPC), and whether
/// there is room to start a job, whose records need some.
/// </summary>
public static class DiskFull
{
    /// <summary>Below this much free space no job starts: its start, logs and end must be written.</summary>
    public const long MinimumFreeBytes = 1 << 20;

    private const int Enospc = 28;

    public static bool Is(Exception e) => e switch
    {
        SqliteException { SqliteErrorCode: 13 } => true,
        IOException io when io.HResult == Enospc || io.Message.Contains("No space left", StringComparison.Ordinal) => true,
        _ => e.InnerException is { } inner && Is(inner),
    };

    /// <summary>Whether the disk holding <paramref name="folder"/> has room for a job's records (true when it cannot tell).</summary>
    public static bool RoomLeft(string folder)
    {
        try
        {
            return new DriveInfo(folder).AvailableFreeSpace >= MinimumFreeBytes;
        }
        catch (Exception e) when (e is IOException or ArgumentException or UnauthorizedAccessException)
        {
            return true;
        }
    }

    /// <summary>The one line a user reads, from the CLI, a client or a notification.</summary>
    public static string Message(string folder) =>
        $"the disk holding the data folder {folder} is full: nothing was changed; free some space and try again (running jobs go on)";
}
