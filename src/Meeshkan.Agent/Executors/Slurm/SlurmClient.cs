using System.Globalization;

namespace Meeshkan.Agent.Executors.Slurm;

/// <summary>Slurm refused or could not be asked. <see cref="Unreachable"/>: slurmctld did not answer (try again later).</summary>
public sealed class SlurmException(string message, bool unreachable) : Exception(message)
{
    public bool Unreachable { get; } = unreachable;
}

/// <summary>What one poll learned: each job Slurm still knows, or that Slurm did not answer (states are then kept as they were).</summary>
public sealed record SlurmPoll(IReadOnlyDictionary<long, SlurmJobStatus> Jobs, bool Reachable, string? Error)
{
    public static SlurmPoll Down(string error) => new(new Dictionary<long, SlurmJobStatus>(), false, error);
}

/// <summary>
/// Slurm as Meeshkan uses it: sbatch to submit, scancel to cancel, and one batched status query for every job it
/// knows (squeue for all of them in one call; for those squeue has forgotten, one sacct call: the accounting database
/// where there is one, else <c>sacct -c</c> on the job completion file). Never one call per job.
/// </summary>
public sealed class SlurmClient(ISlurmCommands commands, IEnumerable<KeyValuePair<string, string>>? environment = null)
{
    private const string SqueueFormat = "JobID:|,State:|,Reason:|,NodeList:|,exit_code:|,EndTime:|";
    private const string SacctFormat = "JobID,State,ExitCode,NodeList,Reason,End";
    // The sacct that answered last: ["sacct"] (slurmdbd) or ["sacct", "-c"] (the job completion file); null: none yet.
    private string[]? _sacct;

    /// <summary>How the ended jobs squeue forgot were last looked up: "sacct", "sacct -c", or "none".</summary>
    public string AccountingSource => _sacct is null ? "none" : string.Join(' ', _sacct);

    /// <summary>Submits the job (its folder must exist) and returns Slurm's job id.</summary>
    public async Task<long> SubmitAsync(SbatchSubmission submission, IEnumerable<KeyValuePair<string, string>>? jobEnvironment = null,
        CancellationToken cancel = default)
    {
        var result = await commands.RunAsync("sbatch", submission.Arguments, jobEnvironment ?? environment, cancel).ConfigureAwait(false);
        if (result.ExitCode != 0)
        {
            throw new SlurmException("sbatch: " + result.Message, IsUnreachable(result));
        }
        try
        {
            return SbatchSubmission.ParseJobId(result.Stdout);
        }
        catch (FormatException e)
        {
            throw new SlurmException(e.Message, unreachable: false);
        }
    }

    /// <summary>scancel for these jobs, in one call. Slurm signals the whole job (every step, every node).</summary>
    public async Task CancelAsync(IReadOnlyCollection<long> jobIds, CancellationToken cancel = default)
    {
        if (jobIds.Count == 0)
        {
            return;
        }
        var result = await commands.RunAsync("scancel", jobIds.Select(Id).ToList(), environment, cancel).ConfigureAwait(false);
        // An id Slurm has forgotten is not an error here: that job has ended.
        if (result.ExitCode != 0 && !result.Stderr.Contains("Invalid job id", StringComparison.OrdinalIgnoreCase))
        {
            throw new SlurmException("scancel: " + result.Message, IsUnreachable(result));
        }
    }

    /// <summary>The state of every one of these jobs that Slurm knows, in one squeue call (plus one sacct call for the ones squeue forgot).</summary>
    public async Task<SlurmPoll> PollAsync(IReadOnlyCollection<long> jobIds, CancellationToken cancel = default)
    {
        var jobs = new Dictionary<long, SlurmJobStatus>();
        if (jobIds.Count == 0)
        {
            return new SlurmPoll(jobs, true, null);
        }
        var squeue = await commands.RunAsync("squeue", ["-h", "-t", "all", "-j", string.Join(',', jobIds.Select(Id)), "-O", SqueueFormat],
            environment, cancel).ConfigureAwait(false);
        if (squeue.ExitCode != 0 && !squeue.Stderr.Contains("Invalid job id", StringComparison.OrdinalIgnoreCase))
        {
            return SlurmPoll.Down("squeue: " + squeue.Message);
        }
        foreach (var line in squeue.Stdout.Split('\n'))
        {
            if (SlurmJobStatus.FromSqueue(line) is { } status && jobIds.Contains(status.JobId))
            {
                jobs[status.JobId] = status;
            }
        }
        var forgotten = jobIds.Where(id => !jobs.ContainsKey(id)).ToList();
        if (forgotten.Count > 0)
        {
            foreach (var status in await AccountingAsync(forgotten, cancel).ConfigureAwait(false))
            {
                jobs.TryAdd(status.JobId, status);
            }
        }
        return new SlurmPoll(jobs, true, null);
    }

    private async Task<IReadOnlyList<SlurmJobStatus>> AccountingAsync(IReadOnlyList<long> jobIds, CancellationToken cancel)
    {
        var ids = string.Join(',', jobIds.Select(Id));
        // The one that answered last time first; a failure is not remembered (slurmdbd may be back next time).
        foreach (var candidate in _sacct is { } known ? [known] : new[] { new[] { "sacct" }, ["sacct", "-c"] })
        {
            var result = await Sacct(candidate, ids, cancel).ConfigureAwait(false);
            if (result.ExitCode == 0)
            {
                _sacct = candidate;
                return Parse(result);
            }
        }
        _sacct = null;
        return [];
    }

    private Task<CommandResult> Sacct(string[] sacct, string ids, CancellationToken cancel) =>
        commands.RunAsync(sacct[0], [.. sacct[1..], "-n", "-X", "--parsable2", "-j", ids, "-o", SacctFormat], environment, cancel);

    private static List<SlurmJobStatus> Parse(CommandResult sacct)
    {
        // The last line per job wins: a requeued job has one line per run.
        var byId = new Dictionary<long, SlurmJobStatus>();
        foreach (var line in sacct.Stdout.Split('\n'))
        {
            if (SlurmJobStatus.FromSacct(line) is { } status)
            {
                byId[status.JobId] = status;
            }
        }
        return [.. byId.Values];
    }

    /// <summary>slurmctld did not answer (down, unreachable, timed out), as opposed to refusing the request.</summary>
    public static bool IsUnreachable(CommandResult result) =>
        result.ExitCode == 124 || new[] { "Unable to contact slurm controller", "Socket timed out", "Connection refused",
            "Communication connection failure", "Zero Bytes were transmitted", "Unable to establish controller machine",
            "Protocol authentication error", "Slurm backup controller in standby mode", "Transport endpoint" }
            .Any(s => result.Stderr.Contains(s, StringComparison.OrdinalIgnoreCase));

    private static string Id(long id) => id.ToString(CultureInfo.InvariantCulture);
}
