using System.Globalization;
using System.Text;

namespace Meeshkan.Agent.Executors.Slurm;

/// <summary>
/// One job as sbatch gets it: the options (resources, the job folder for stdout and stderr, the working directory) and
/// the batch script, written to the job folder as <c>slurm.sh</c> so the user can read exactly what ran. The script
/// runs the job's argv and records its exit status in the job folder (as a local job does), which gives the true exit
/// status even when Slurm no longer remembers the job and keeps no accounting.
/// </summary>
public sealed record SbatchSubmission(IReadOnlyList<string> Arguments, string Script)
{
    public const string ScriptFile = "slurm.sh";

    /// <param name="number">The Meeshkan job number (the Slurm job's name is <c>meeshkan-NUMBER-NAME</c>).</param>
    /// <param name="folder">The job folder, on a filesystem the compute nodes see; it must exist before sbatch.</param>
    public static SbatchSubmission For(long number, string name, IReadOnlyList<string> command, string workingDirectory,
        string folder, SlurmResources resources)
    {
        if (command.Count == 0)
        {
            throw new ArgumentException("the job has no command");
        }
        var arguments = new List<string>
        {
            "--parsable",
            "--job-name=" + JobName(number, name),
            "--chdir=" + workingDirectory,
            // %% is a literal % in sbatch's file patterns.
            "--output=" + Path.Combine(folder, "stdout").Replace("%", "%%", StringComparison.Ordinal),
            "--error=" + Path.Combine(folder, "stderr").Replace("%", "%%", StringComparison.Ordinal),
            "--open-mode=append",
            // The job's environment is the one sbatch runs with (the submitter's, plus MEESHKAN_*).
            "--export=ALL",
        };
        arguments.AddRange(resources.ToSbatchOptions());
        arguments.Add(Path.Combine(folder, ScriptFile));
        var script = new StringBuilder();
        script.Append("#!/bin/sh\n");
        script.Append(CultureInfo.InvariantCulture, $"# Meeshkan job {number} ({name}), submitted with: sbatch {string.Join(' ', arguments.Select(ShellWords.Quote))}\n");
        script.Append("d=").Append(ShellWords.Quote(folder)).Append('\n');
        script.Append("rm -f \"$d/exit_code\"\n");
        script.Append(string.Join(' ', command.Select(ShellWords.Quote))).Append(" </dev/null\n");
        script.Append("c=$?\n");
        script.Append("echo $c >\"$d/exit_code.tmp\" && mv -f \"$d/exit_code.tmp\" \"$d/exit_code\"\n");
        script.Append("exit $c\n");
        return new SbatchSubmission(arguments, script.ToString());
    }

    /// <summary>The Slurm job name: what `squeue` shows the cluster's other users. Slurm keeps names short and plain.</summary>
    public static string JobName(long number, string name)
    {
        var plain = new string(name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_').ToArray());
        var full = string.Create(CultureInfo.InvariantCulture, $"meeshkan-{number}-{plain}");
        return full.Length <= 64 ? full : full[..64];
    }

    /// <summary>The Slurm job id from `sbatch --parsable` (<c>ID</c> or <c>ID;CLUSTER</c>).</summary>
    public static long ParseJobId(string stdout)
    {
        var line = stdout.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? "";
        var id = line.Split(';')[0];
        return long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value > 0
            ? value
            : throw new FormatException($"sbatch printed no job id (\"{stdout.Trim()}\")");
    }
}
