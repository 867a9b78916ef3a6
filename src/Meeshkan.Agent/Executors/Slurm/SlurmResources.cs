using System.Globalization;
using System.Text.RegularExpressions;

namespace Meeshkan.Agent.Executors.Slurm;

/// <summary>
/// What a job asks Slurm for: the job's own options (`submit --gpus/--timeout/--cpus/--mem/--partition`) over the
/// defaults of `meeshkan setup --slurm-partition/--slurm-account/--slurm-args`.
/// </summary>
public sealed partial record SlurmResources
{
    public int? Gpus { get; init; }
    public TimeSpan? TimeLimit { get; init; }
    public int? Cpus { get; init; }
    /// <summary>Memory as Slurm takes it: a number with an optional K, M, G or T suffix (<c>16G</c>).</summary>
    public string? Memory { get; init; }
    public string? Partition { get; init; }
    public string? Account { get; init; }
    /// <summary>Further sbatch options, as the user would type them (<c>"--qos=high --constraint=a100"</c>).</summary>
    public string? ExtraArgs { get; init; }

    /// <summary>This job's choices, and the defaults where it made none.</summary>
    public SlurmResources Over(SlurmResources defaults) => new()
    {
        Gpus = Gpus ?? defaults.Gpus,
        TimeLimit = TimeLimit ?? defaults.TimeLimit,
        Cpus = Cpus ?? defaults.Cpus,
        Memory = Memory ?? defaults.Memory,
        Partition = Partition ?? defaults.Partition,
        Account = Account ?? defaults.Account,
        ExtraArgs = string.Join(' ', new[] { defaults.ExtraArgs, ExtraArgs }.Where(a => !string.IsNullOrWhiteSpace(a))) is { Length: > 0 } joined ? joined : null,
    };

    /// <summary>The sbatch options for these resources, in a fixed order; throws <see cref="ArgumentException"/> on bad values.</summary>
    public IReadOnlyList<string> ToSbatchOptions()
    {
        var options = new List<string>();
        if (Partition is { Length: > 0 } partition)
        {
            options.Add("--partition=" + partition);
        }
        if (Account is { Length: > 0 } account)
        {
            options.Add("--account=" + account);
        }
        if (Cpus is { } cpus)
        {
            options.Add("--cpus-per-task=" + Positive(cpus, "--cpus").ToString(CultureInfo.InvariantCulture));
        }
        if (Memory is { Length: > 0 } memory)
        {
            if (!MemoryPattern().IsMatch(memory))
            {
                throw new ArgumentException($"--mem {memory}: give a size such as 4096M, 16G or 1T");
            }
            options.Add("--mem=" + memory.ToUpperInvariant());
        }
        if (Gpus is { } gpus)
        {
            options.Add("--gres=gpu:" + Positive(gpus, "--gpus").ToString(CultureInfo.InvariantCulture));
        }
        if (TimeLimit is { } limit)
        {
            options.Add("--time=" + FormatTime(limit));
        }
        options.AddRange(ShellWords.Split(ExtraArgs ?? ""));
        return options;
    }

    /// <summary>A time limit as sbatch reads it, D-HH:MM:SS (Slurm itself counts whole minutes, rounding up).</summary>
    public static string FormatTime(TimeSpan limit)
    {
        if (limit <= TimeSpan.Zero)
        {
            throw new ArgumentException("--timeout must be more than 0 seconds");
        }
        return JobDuration.ToSlurmTime(limit);
    }

    private static int Positive(int value, string option) =>
        value > 0 ? value : throw new ArgumentException($"{option} must be 1 or more (got {value})");

    [GeneratedRegex("^[0-9]+[KMGTkmgt]?$")]
    private static partial Regex MemoryPattern();
}
