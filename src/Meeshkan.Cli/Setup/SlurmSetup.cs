using Meeshkan.Agent.Config;
using Meeshkan.Agent.Executors.Slurm;

namespace Meeshkan.Cli.Setup;

/// <summary>The Slurm flags of `meeshkan setup` (docs/slurm.md): turn the executor on or off, its defaults, the default executor.</summary>
internal sealed record SlurmSetup(bool Slurm, bool NoSlurm, string? Partition, string? Account, string? Args, string? Folder, string? AgentUrl,
    string? Executor)
{
    public bool Any => Slurm || NoSlurm || Partition is not null || Account is not null || Args is not null || Folder is not null
        || AgentUrl is not null || Executor is not null;

    /// <summary>Throws <see cref="ArgumentException"/> when a value is not usable.</summary>
    public void ApplyTo(AgentConfig config)
    {
        if (NoSlurm)
        {
            config.Slurm = null;
            if (config.Executor == SlurmExecutor.ExecutorName)
            {
                config.Executor = null;
            }
        }
        var settingsGiven = Partition is not null || Account is not null || Args is not null || Folder is not null || AgentUrl is not null;
        if (Slurm || settingsGiven)
        {
            var slurm = config.Slurm ?? new SlurmSettings();
            slurm.Enabled = slurm.Enabled || Slurm;
            slurm.Partition = Value(Partition, slurm.Partition);
            slurm.Account = Value(Account, slurm.Account);
            if (Args is not null)
            {
                ShellWords.Split(Args);
                slurm.Args = Args.Length == 0 ? null : Args;
            }
            if (Folder is not null)
            {
                slurm.Folder = Folder.Length == 0 ? null : Path.GetFullPath(Folder);
            }
            if (AgentUrl is not null)
            {
                if (AgentUrl.Length > 0 && (!Uri.TryCreate(AgentUrl, UriKind.Absolute, out var url) || url.Scheme != Uri.UriSchemeHttps))
                {
                    throw new ArgumentException($"--slurm-agent-url {AgentUrl}: give the listener as compute nodes reach it, e.g. https://login1:7600");
                }
                slurm.AgentUrl = AgentUrl.Length == 0 ? null : AgentUrl;
            }
            config.Slurm = slurm;
        }
        if (Executor is not null)
        {
            var executor = Executor.Trim().ToLowerInvariant();
            if (executor is not ("local" or SlurmExecutor.ExecutorName))
            {
                throw new ArgumentException($"--executor {Executor}: jobs run on local or slurm");
            }
            if (executor == SlurmExecutor.ExecutorName && config.Slurm is not { Enabled: true })
            {
                throw new ArgumentException("--executor slurm needs the Slurm executor: add --slurm");
            }
            config.Executor = executor == "local" ? null : executor;
        }
    }

    private static string? Value(string? given, string? current) => given is null ? current : given.Length == 0 ? null : given;
}
