using Meeshkan.Agent.Config;
using Meeshkan.Agent.Jobs;
using Meeshkan.V1;

namespace Meeshkan.Agent.Executors.Slurm;

/// <summary>What a submit asks of Slurm (<c>--on slurm --gpus --timeout --cpus --mem --partition</c>), checked at submit.</summary>
public static class SlurmRequest
{
    /// <summary>The executor a submitted job goes to: <c>--on</c>, else <c>setup --executor</c>; null for local (the run loop's default).</summary>
    public static string? ExecutorFor(SubmitJobRequest request, AgentConfig config)
    {
        var on = (request.On is { Length: > 0 } chosen ? chosen : config.Executor ?? "local").Trim().ToLowerInvariant();
        switch (on)
        {
            case "local":
                return null;
            case SlurmExecutor.ExecutorName:
                if (SlurmExecutor.NotReady(config) is { } problem)
                {
                    throw new InvalidRequestException($"--on slurm: {problem}");
                }
                return SlurmExecutor.ExecutorName;
            default:
                throw new InvalidRequestException($"--on {on}: jobs run on local or slurm");
        }
    }

    /// <summary>The job's environment with its sbatch options (<see cref="SlurmExecutor.OptionsVariable"/>).</summary>
    public static IReadOnlyDictionary<string, string> WithOptions(IReadOnlyDictionary<string, string> environment, SubmitJobRequest request, AgentConfig config)
    {
        if (request.Gpus != Math.Floor(request.Gpus) || request.Gpus < 0)
        {
            throw new InvalidRequestException($"--gpus {request.Gpus}: Slurm gives whole GPUs; ask for 1 or more");
        }
        if (request.GpuIds.Count > 0)
        {
            throw new InvalidRequestException("--gpu-ids names this machine's GPUs; a Slurm job asks for a number of them: --gpus N");
        }
        var resources = new SlurmResources
        {
            Gpus = request.Gpus > 0 ? (int)request.Gpus : null,
            TimeLimit = request.TimeoutSeconds > 0 ? TimeSpan.FromSeconds(request.TimeoutSeconds) : null,
            Cpus = request.Cpus != 0 ? request.Cpus : null,
            Memory = request.Mem is { Length: > 0 } mem ? mem : null,
            Partition = request.Partition is { Length: > 0 } partition ? partition : null,
        };
        string options;
        try
        {
            options = SlurmExecutor.OptionsFor(config, resources);
        }
        catch (ArgumentException e)
        {
            throw new InvalidRequestException(e.Message);
        }
        return new Dictionary<string, string>(environment) { [SlurmExecutor.OptionsVariable] = options };
    }

    /// <summary>A local job: the Slurm-only options are refused rather than ignored.</summary>
    public static IReadOnlyDictionary<string, string> LocalOnly(SubmitJobRequest request, IReadOnlyDictionary<string, string> environment)
    {
        if (request.Cpus != 0 || request.Mem.Length > 0 || request.Partition.Length > 0)
        {
            throw new InvalidRequestException("--cpus, --mem and --partition are for Slurm jobs: add --on slurm");
        }
        return environment;
    }
}
