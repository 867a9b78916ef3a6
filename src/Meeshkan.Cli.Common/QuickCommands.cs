using Meeshkan.Cli.Commands;

namespace Meeshkan.Cli;

/// <summary>
/// The calls made most often, `meeshkan list` and `meeshkan submit [--on slurm] CMD [ARGS...]` without other options, skip building
/// Cocona's host: on these machines that costs more than the call itself (docs/benchmarks.md). The small `meeshkan`
/// executable (src/Meeshkan.Front) answers them with this same code, without loading the rest of the CLI. They run
/// the very same command methods Cocona would bind. Anything else (an option, help, a mistake) goes to Cocona,
/// which stays the one parser and the one source of help and usage errors.
/// </summary>
internal static class QuickCommands
{
    /// <summary>The command to run for exactly these normalized arguments, or null to let Cocona parse them.</summary>
    public static Func<Task<int>>? Match(string[] args) => args switch
    {
        ["list"] => () => new JobCommands().List(json: false),
        ["list", "--json"] => () => new JobCommands().List(json: true),
        // CommandLine.Normalize puts `--` before the job's command when no submit option precedes it.
        ["submit", "--", var first, ..] when !first.StartsWith('-') => () => Submit(on: null, args[2..]),
        // `submit --on slurm CMD`: what a Slurm user types for every job.
        ["submit", "--on", var on, "--", var first, ..] when !first.StartsWith('-') && !on.StartsWith('-') => () => Submit(on, args[4..]),
        _ => null,
    };

    private static Task<int> Submit(string? on, string[] command) =>
        new JobCommands().Submit(name: null, reportInterval: null, python: null, cwd: null, command: command, gpus: null, gpuIds: null, priority: null,
            on: on, timeout: null, cpus: null, mem: null, partition: null);
}
