using System.Diagnostics;

namespace Meeshkan.Agent.Internal;

/// <summary>
/// Runs a short-lived program the agent asks something of (sbatch, squeue, nvidia-smi) and captures what it prints.
/// Its standard input is closed; past the deadline it is killed with its children. Jobs are started elsewhere
/// (<c>Executors/Local</c>).
/// </summary>
internal static class ShortCommand
{
    /// <summary>The program's exit code and output.</summary>
    /// <param name="environment">The whole environment of the program; null: the agent's own.</param>
    /// <exception cref="System.ComponentModel.Win32Exception">The program cannot be started (not found, not executable).</exception>
    /// <exception cref="TimeoutException">It did not end within <paramref name="timeout"/> (it has been killed).</exception>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string program, IReadOnlyList<string> arguments,
        IEnumerable<KeyValuePair<string, string>>? environment, TimeSpan timeout, CancellationToken cancel = default)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        if (environment is not null)
        {
            start.Environment.Clear();
            foreach (var (key, value) in environment)
            {
                start.Environment[key] = value;
            }
        }
        using var process = new Process { StartInfo = start };
        process.Start();
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync(cancel);
        var stderr = process.StandardError.ReadToEndAsync(cancel);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        deadline.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
            }
            cancel.ThrowIfCancellationRequested();
            throw new TimeoutException($"{program} did not end within {timeout.TotalSeconds:0.#} s");
        }
        return (process.ExitCode, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false));
    }
}
