using System.Collections.Concurrent;
using System.Diagnostics;

namespace Meeshkan.Agent.Services;

/// <summary>
/// Whether an interpreter can import what the bundled `meeshkan` package needs. Asked once per interpreter
/// (and again when its file changes), so a submit pays for it at most once.
/// </summary>
public sealed class PythonCheck
{
    private readonly ConcurrentDictionary<(string Path, DateTime Modified), string?> _missing = new();

    /// <summary>The modules the interpreter cannot import ("grpc, google.protobuf"), or null when it has them.</summary>
    public string? MissingModules(string python)
    {
        DateTime modified;
        try
        {
            modified = File.GetLastWriteTimeUtc(python);
        }
        catch (IOException)
        {
            return null;
        }
        return _missing.GetOrAdd((python, modified), key => Probe(key.Path));
    }

    private static string? Probe(string python)
    {
        const string script =
            "import importlib.util as u\n" +
            "print(', '.join(m for m in ('grpc', 'google.protobuf') if u.find_spec(m.split('.')[0]) is None or (m == 'google.protobuf' and u.find_spec(m) is None)))";
        try
        {
            var start = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            start.ArgumentList.Add("-c");
            start.ArgumentList.Add(script);
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEnd().Trim();
            if (!process.WaitForExit(10_000))
            {
                process.Kill();
                return null;
            }
            return process.ExitCode == 0 && output.Length > 0 ? output : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }
}
