namespace Meeshkan.Testing;

/// <summary>
/// A fake <c>nvidia-smi</c> (FIELD-NOTES, "GPUs without a GPU"): a script that answers the agent's query with four
/// 16 GiB GPUs, their used memory read from a file the test writes. Put <see cref="Folder"/> first on the agent's PATH.
/// </summary>
public sealed class FakeNvidiaSmi : IDisposable
{
    public FakeNvidiaSmi(int count = 4)
    {
        Folder = Directory.CreateTempSubdirectory("mkgpu-").FullName;
        var lines = string.Concat(Enumerable.Range(0, count).Select(i =>
            $"echo \"{i}, GPU-fake-000{i}, Fake GPU {i}, 16384, ${{u{i}:-0}}\"\n"));
        var reads = string.Join(' ', Enumerable.Range(0, count).Select(i => $"u{i}"));
        File.WriteAllText(Script, $"""
            #!/bin/sh
            # Used MiB of each GPU, in one line: "0 9000 0 0".
            f="$(dirname "$0")/memory-used"
            [ -f "$f" ] && read {reads} < "$f"
            {lines}
            """.ReplaceLineEndings("\n"));
        File.SetUnixFileMode(Script, (UnixFileMode)0b111_101_101);
        SetUsed(new long[count]);
    }

    public string Folder { get; }

    public string Script => Path.Combine(Folder, "nvidia-smi");

    /// <summary>PATH for the agent: this folder first.</summary>
    public string SearchPath => Folder + ":" + Environment.GetEnvironmentVariable("PATH");

    /// <summary>Sets each GPU's used memory (MiB) as the next query reports it.</summary>
    public void SetUsed(params long[] mib)
    {
        var temp = Path.Combine(Folder, "memory-used.tmp");
        File.WriteAllText(temp, string.Join(' ', mib) + "\n");
        File.Move(temp, Path.Combine(Folder, "memory-used"), overwrite: true);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
