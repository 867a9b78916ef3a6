using Meeshkan.Agent.Internal;

namespace Meeshkan.Agent.Executors.Slurm;

/// <summary>What one Slurm command printed and returned.</summary>
public sealed record CommandResult(int ExitCode, string Stdout, string Stderr)
{
    /// <summary>The first line of stderr without the program's prefix (<c>sbatch: error: </c>): Slurm's own message.</summary>
    public string Message
    {
        get
        {
            var line = Stderr.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                .FirstOrDefault(l => l.Contains("error", StringComparison.OrdinalIgnoreCase)) ??
                Stderr.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).FirstOrDefault() ?? "";
            var error = line.IndexOf("error: ", StringComparison.Ordinal);
            return (error >= 0 ? line[(error + 7)..] : line).Trim() is { Length: > 0 } message ? message : $"exit status {ExitCode}";
        }
    }
}

/// <summary>Runs Slurm's commands (sbatch, squeue, sacct, scancel). One interface so that the logic around them is tested without a cluster.</summary>
public interface ISlurmCommands
{
    Task<CommandResult> RunAsync(string program, IReadOnlyList<string> arguments, IEnumerable<KeyValuePair<string, string>>? environment = null,
        CancellationToken cancel = default);
}

/// <summary>The real commands, found on PATH (or in <c>slurm_bin</c>), each with a deadline: a hung controller never hangs the agent.</summary>
public sealed class SlurmCommands(string? binFolder = null, TimeSpan? timeout = null) : ISlurmCommands
{
    private readonly TimeSpan _timeout = timeout ?? TimeSpan.FromSeconds(60);

    public async Task<CommandResult> RunAsync(string program, IReadOnlyList<string> arguments,
        IEnumerable<KeyValuePair<string, string>>? environment = null, CancellationToken cancel = default)
    {
        try
        {
            var (exitCode, stdout, stderr) = await ShortCommand.RunAsync(
                binFolder is { Length: > 0 } ? Path.Combine(binFolder, program) : program, arguments, environment, _timeout, cancel).ConfigureAwait(false);
            return new CommandResult(exitCode, stdout, stderr);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return new CommandResult(127, "", $"{program}: error: cannot run {program} ({e.Message}): is Slurm's client installed and on the agent's PATH?");
        }
        catch (TimeoutException)
        {
            return new CommandResult(124, "", $"{program}: error: no answer within {_timeout.TotalSeconds:0} s (is slurmctld up?)");
        }
    }
}
