using Google.Protobuf;
using Meeshkan.V1;

namespace Meeshkan.Internal;

/// <summary>
/// What a job could not deliver before it exited goes to <c>unsent-scalars</c> in its job folder: each batch a varint
/// length and a serialised <see cref="ScalarBatch"/>, appended in one write. The agent stores them when it records the
/// job's end, once each (client id and sequence). The Python client writes the same file.
/// </summary>
internal static class UnsentScalarsFile
{
    public const string FileName = "unsent-scalars";

    /// <summary>The submitted job's folder (MEESHKAN_JOB_FOLDER, set by the agent) when it exists.</summary>
    public static string? JobFolder()
    {
        var folder = Environment.GetEnvironmentVariable("MEESHKAN_JOB_FOLDER");
        if (string.IsNullOrEmpty(folder))
        {
            var home = Environment.GetEnvironmentVariable("MEESHKAN_HOME");
            var number = Environment.GetEnvironmentVariable("MEESHKAN_JOB_NUMBER");
            if (string.IsNullOrEmpty(home) || string.IsNullOrEmpty(number))
            {
                return null;
            }
            folder = Path.Combine(home, "jobs", number);
        }
        return Directory.Exists(folder) ? folder : null;
    }

    /// <summary>Appends the batches in one write and returns the file's path.</summary>
    public static string Append(string folder, IEnumerable<ScalarBatch> batches)
    {
        using var buffer = new MemoryStream();
        foreach (var batch in batches)
        {
            batch.WriteDelimitedTo(buffer);
        }
        var path = Path.Combine(folder, FileName);
        using var file = new FileStream(path, new FileStreamOptions
        {
            Mode = FileMode.Append, Access = FileAccess.Write, Share = FileShare.ReadWrite,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        });
        file.Write(buffer.GetBuffer(), 0, (int)buffer.Length);
        file.Flush(flushToDisk: true);
        return path;
    }
}
