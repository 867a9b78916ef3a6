using System.Globalization;

namespace Meeshkan;

/// <summary>
/// One job's output folder (<see cref="MeeshkanHome.JobFolder"/>) and the files in it: the one place that knows its
/// layout. The job writes stdout and stderr; its `sh` parent (a job of an agent with no keeper, or a Slurm job's
/// script) writes exit_code when the job's command has exited.
/// </summary>
public sealed class JobFolder(string path)
{
    /// <summary>The folder itself.</summary>
    public string Path { get; } = path;

    /// <summary>What the job printed to standard output.</summary>
    public string Stdout => System.IO.Path.Combine(Path, "stdout");

    /// <summary>What the job printed to standard error.</summary>
    public string Stderr => System.IO.Path.Combine(Path, "stderr");

    /// <summary>The job's exit status, written by its `sh` parent as it ends (so it survives the agent being down).</summary>
    public string ExitCode => System.IO.Path.Combine(Path, "exit_code");

    /// <summary>Where an earlier attempt's stdout, stderr and exit_code are kept once it failed and the job is retried.</summary>
    public JobFolder Attempt(int attempt) => new(System.IO.Path.Combine(Path, $"attempt-{attempt.ToString(CultureInfo.InvariantCulture)}"));

    /// <summary>Moves the output of the attempt that just ended into <see cref="Attempt"/>, so the next starts afresh.</summary>
    public void KeepAttempt(int attempt)
    {
        var kept = Attempt(attempt);
        Directory.CreateDirectory(kept.Path);
        foreach (var (from, to) in new[] { (Stdout, kept.Stdout), (Stderr, kept.Stderr), (ExitCode, kept.ExitCode) })
        {
            if (File.Exists(from))
            {
                File.Move(from, to, overwrite: true);
            }
        }
    }

    /// <summary>The exit code the job's wrapper recorded in <paramref name="folder"/>, if it got that far.</summary>
    public static int? ReadExitCode(string folder)
    {
        try
        {
            var text = File.ReadAllText(new JobFolder(folder).ExitCode).Trim();
            return int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var code) ? code : null;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    /// <summary>The bytes the folder holds, and deletes it; 0 when it is already gone.</summary>
    public long Delete()
    {
        if (!Directory.Exists(Path))
        {
            return 0;
        }
        var bytes = new DirectoryInfo(Path).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length);
        Directory.Delete(Path, recursive: true);
        return bytes;
    }
}
