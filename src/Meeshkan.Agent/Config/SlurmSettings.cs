namespace Meeshkan.Agent.Config;

/// <summary>The Slurm executor (<c>meeshkan setup --slurm ...</c>; docs/slurm.md).</summary>
public sealed class SlurmSettings
{
    /// <summary>Jobs may be submitted with <c>--on slurm</c>.</summary>
    public bool Enabled { get; set; }

    /// <summary>Defaults for every Slurm job: <c>--partition</c>, <c>--account</c>, further sbatch options.</summary>
    public string? Partition { get; set; }

    public string? Account { get; set; }

    public string? Args { get; set; }

    /// <summary>Where Slurm jobs' folders go (jobs/NUMBER below it): a filesystem the compute nodes see. Default: the data folder.</summary>
    public string? Folder { get; set; }

    /// <summary>The agent's TLS listener as compute nodes reach it (https://login1:7600); default: this host's name and the listen port.</summary>
    public string? AgentUrl { get; set; }

    /// <summary>Seconds between two polls of Slurm (one squeue call each) while Slurm jobs are known. Default 1.</summary>
    public double PollSeconds { get; set; } = 1;
}
