namespace Meeshkan;

/// <summary>Secrets on disk: written whole (temp file, then rename) and readable by their owner only.</summary>
internal static class PrivateFile
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>Replaces the file atomically; the bytes are never readable by anyone else, not even for a moment.</summary>
    public static void Write(string path, ReadOnlySpan<byte> bytes)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        Place(path, bytes, overwrite: true);
    }

    /// <summary>Like <see cref="Write"/>, but keeps a file someone else (another process) wrote first.</summary>
    /// <returns>True when this call created the file.</returns>
    public static bool CreateOnce(string path, ReadOnlySpan<byte> bytes) => Place(path, bytes, overwrite: false);

    /// <summary>Writes a private temp file beside <paramref name="path"/>, then renames it into place.</summary>
    /// <returns>False when <paramref name="overwrite"/> is off and the file already existed.</returns>
    private static bool Place(string path, ReadOnlySpan<byte> bytes, bool overwrite)
    {
        var temp = $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        try
        {
            using (var file = new FileStream(temp, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                UnixCreateMode = OwnerOnly,
            }))
            {
                file.Write(bytes);
                file.Flush(flushToDisk: true);
            }
            File.SetUnixFileMode(temp, OwnerOnly);
            try
            {
                // A move without overwrite fails if the target exists: the first writer wins, and the file appears complete.
                File.Move(temp, path, overwrite);
                return true;
            }
            catch (IOException) when (!overwrite && File.Exists(path))
            {
                return false;
            }
        }
        finally
        {
            File.Delete(temp);
        }
    }
}
