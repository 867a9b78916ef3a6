using System.Runtime.InteropServices;
using Meeshkan.Cli;

namespace Meeshkan.Front;

/// <summary>The complete `meeshkan` CLI, published to core/ next to this executable.</summary>
internal static unsafe partial class CoreCli
{
    public static string Path { get; } = System.IO.Path.Combine(AppContext.BaseDirectory, "core", "meeshkan");

    /// <summary>
    /// Replaces this process with the complete CLI, given the very bytes of this process's arguments (read from the
    /// kernel: .NET's <c>args</c> have already lost bytes that are not UTF-8). Returns only when exec failed.
    /// </summary>
    public static int Exec()
    {
        var words = CommandLine.RawArguments();
        var path = System.Text.Encoding.UTF8.GetBytes(Path + "\0");
        var argv = new nint[words.Count + 1];
        var handles = new List<GCHandle>();
        try
        {
            for (var i = 0; i < words.Count; i++)
            {
                // argv[0] names the program as the user called it; the file exec'd is the complete CLI.
                var word = new byte[words[i].Length + 1];
                words[i].CopyTo(word, 0);
                var handle = GCHandle.Alloc(word, GCHandleType.Pinned);
                handles.Add(handle);
                argv[i] = handle.AddrOfPinnedObject();
            }
            fixed (byte* p = path)
            fixed (nint* a = argv)
            {
                execv(p, a);
            }
        }
        finally
        {
            foreach (var handle in handles)
            {
                handle.Free();
            }
        }
        return AgentConnection.Fail($"cannot run {Path} ({Marshal.GetLastPInvokeErrorMessage()}): reinstall meeshkan", ExitCodes.Error);
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int execv(byte* path, nint* argv);
}
