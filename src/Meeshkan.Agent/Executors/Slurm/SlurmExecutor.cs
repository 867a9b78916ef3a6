using System.Globalization;
using Meeshkan.Agent.Config;
using Meeshkan.Agent.Executors.Local;
using Meeshkan.Agent.Remote;
using Meeshkan.Agent.Scheduler;
using Meeshkan.Agent.Store;
using Meeshkan.V1;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Meeshkan.Agent.Executors.Slurm;

/// <summary>
/// Runs jobs on a Slurm cluster: Slurm schedules, this submits (sbatch), watches (<see cref="SlurmWatcher"/>: one
/// batched poll for all jobs) and cancels (scancel). The reference is Slurm's job id. Takes no local slot: a job
/// submitted <c>--on slurm</c> is handed to Slurm at once. While slurmctld does not answer, jobs stay queued in
/// Meeshkan and are handed over when it answers again (<see cref="ExecutorUnavailableException"/>).
/// </summary>
public sealed partial class SlurmExecutor : BackgroundService, IJobExecutor, ISlurmWatcherEvents
{
    public const string ExecutorName = "slurm";

    /// <summary>The sbatch options chosen at submit (resources, partition...), kept in the job's environment, shell-quoted.</summary>
    public const string OptionsVariable = "MEESHKAN_SBATCH_OPTIONS";

    private readonly AgentOptions _options;
    private readonly AgentConfig _config;
    private readonly LocalExecutor _local;
    private readonly RunLoopInbox _inbox;
    private readonly JobToken? _tokens;
    private readonly ILogger<SlurmExecutor> _logger;
    private readonly SlurmClient _client;
    // The agent's certificate as its Slurm jobs pin it: read once, not for every job handed over.
    private readonly Lazy<(string Pem, string Fingerprint)> _certificate;

    public SlurmExecutor(AgentOptions options, AgentConfig config, LocalExecutor local, RunLoopInbox inbox, ILogger<SlurmExecutor> logger,
        JobToken? tokens = null, ISlurmCommands? commands = null)
    {
        _options = options;
        _certificate = new(() =>
        {
            using var certificate = RemoteCredentials.LoadOrCreateCertificate(options.Home);
            return (certificate.ExportCertificatePem(), CertificateFingerprint.Of(certificate));
        });
        _config = config;
        _local = local;
        _inbox = inbox;
        _tokens = tokens;
        _logger = logger;
        _client = new SlurmClient(commands ?? new SlurmCommands());
        Watcher = new SlurmWatcher(_client, this, TimeSpan.FromSeconds(Math.Max(0.1, config.Slurm?.PollSeconds ?? 1)));
    }

    public string Name => ExecutorName;

    public bool TakesSlot => false;

    /// <summary>A Slurm job's --timeout is its sbatch --time: Slurm ends it TIMEOUT.</summary>
    public bool KeepsTimeLimit => true;

    public bool Available => Watcher.Answers;

    public SlurmWatcher Watcher { get; }

    /// <summary>Whether <c>--on slurm</c> may be used: set up, and sbatch found.</summary>
    public static string? NotReady(AgentConfig config) =>
        config.Slurm is not { Enabled: true } ? "Slurm is not set up for this agent: run `meeshkan setup --slurm` (docs/slurm.md)"
        : FindOnPath("sbatch") is null ? "sbatch is not on the agent's PATH: install Slurm's client (slurm-client) or start the agent where it is"
        : null;

    /// <summary>The sbatch options for a job's resources over the configured defaults; throws <see cref="ArgumentException"/> on bad ones.</summary>
    public static string OptionsFor(AgentConfig config, SlurmResources job)
    {
        var defaults = new SlurmResources { Partition = config.Slurm?.Partition, Account = config.Slurm?.Account, ExtraArgs = config.Slurm?.Args };
        return string.Join(' ', job.Over(defaults).ToSbatchOptions().Select(ShellWords.Quote));
    }

    public async ValueTask<ExecutorStart> StartAsync(JobRecord job, CancellationToken cancel)
    {
        if (!Watcher.Answers)
        {
            throw new ExecutorUnavailableException("waiting for Slurm to answer (slurmctld is not reachable); it is handed over then");
        }
        var folder = job.OutputDirectory;
        SbatchSubmission submission;
        try
        {
            Directory.CreateDirectory(folder);
            var options = job.Environment?.GetValueOrDefault(OptionsVariable) ?? "";
            submission = SbatchSubmission.For(job.Number, job.Name, job.Command, job.WorkingDirectory, folder, new SlurmResources { ExtraArgs = options });
            await File.WriteAllTextAsync(Path.Combine(folder, SbatchSubmission.ScriptFile), submission.Script, cancel).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            throw new ExecutorStartException($"cannot prepare the job folder {folder} for Slurm: {e.Message}", e);
        }
        long id;
        try
        {
            id = await _client.SubmitAsync(submission, Environment(job), cancel).ConfigureAwait(false);
        }
        catch (SlurmException e) when (e.Unreachable)
        {
            Watcher.MarkDown();
            throw new ExecutorUnavailableException($"waiting for Slurm to answer ({e.Message}); it is handed over then");
        }
        catch (SlurmException e)
        {
            throw new ExecutorStartException(e.Message, e);
        }
        Log.Submitted(_logger, job.Number, id);
        Watcher.Watch(job.Number, id, folder);
        return new ExecutorStart(id.ToString(CultureInfo.InvariantCulture));
    }

    public void Reattach(JobRecord job, CancellationToken stopping)
    {
        if (long.TryParse(job.ExecutorReference, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
        {
            Watcher.Watch(job.Number, id, job.OutputDirectory);
        }
        else
        {
            Exited(new SlurmEnd(job.Number, JobState.Failed, null, $"its Slurm job id was not recorded ('{job.ExecutorReference}')", DateTimeOffset.UtcNow));
        }
    }

    public async Task TerminateAsync(JobRecord job, TimeSpan grace)
    {
        if (Watcher.SlurmIdOf(job.Number) is { } id)
        {
            // Slurm signals every step on every node: SIGTERM, then SIGKILL after the cluster's KillWait.
            await _client.CancelAsync([id]).ConfigureAwait(false);
            Watcher.PollSoon();
        }
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) => Watcher.RunAsync(stoppingToken);

    void ISlurmWatcherEvents.StateChanged(long number, string state) => _inbox.StateChanged(number, state);

    void ISlurmWatcherEvents.Ended(SlurmEnd end) => Exited(end);

    void ISlurmWatcherEvents.ControllerAnswers(bool answers, string? error)
    {
        if (answers)
        {
            Log.ControllerBack(_logger);
            // Jobs kept queued while it was down are handed over now.
            _inbox.JobsQueued();
        }
        else
        {
            Log.ControllerDown(_logger, error ?? "");
        }
    }

    private void Exited(SlurmEnd end) => _inbox.Exited(new JobExit(end.Number, end.State == JobState.Finished ? 0 : end.ExitCode, end.EndedAt,
        end.State == JobState.Finished ? null : end.Reason ?? "ended in Slurm"));

    /// <summary>The job's environment (as a local job's), plus how to reach this agent's TLS listener from a compute node.</summary>
    private IEnumerable<KeyValuePair<string, string>> Environment(JobRecord job)
    {
        var env = _local.JobEnvironment(job).Where(e => e.Key != OptionsVariable).ToDictionary(e => e.Key, e => e.Value);
        if (ListenerUrl() is { } url && _tokens is not null)
        {
            var (certificatePem, fingerprint) = _certificate.Value;
            var pem = Path.Combine(job.OutputDirectory, "agent.pem");
            File.WriteAllText(pem, certificatePem);
            env["MEESHKAN_AGENT_URL"] = url;
            env["MEESHKAN_AGENT_CERT"] = pem;
            env["MEESHKAN_AGENT_FINGERPRINT"] = fingerprint;
            env["MEESHKAN_AGENT_TOKEN"] = _tokens.Issue(job.Id);
        }
        return env;
    }

    /// <summary>Where compute nodes reach the listener: <c>setup --slurm-agent-url</c>, else this host and the listen port.</summary>
    private string? ListenerUrl()
    {
        if (_config.Slurm?.AgentUrl is { Length: > 0 } configured)
        {
            return configured;
        }
        var listen = string.IsNullOrWhiteSpace(_options.Listen) ? _config.Listen : _options.Listen;
        if (string.IsNullOrWhiteSpace(listen))
        {
            return null;
        }
        var (address, localhost, port) = RemoteListener.Parse(listen);
        var host = localhost ? "localhost"
            : address is null || address.Equals(System.Net.IPAddress.Any) || address.Equals(System.Net.IPAddress.IPv6Any) ? System.Net.Dns.GetHostName()
            : address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{address}]" : address.ToString();
        return string.Create(CultureInfo.InvariantCulture, $"https://{host}:{port}");
    }

    private static string? FindOnPath(string program) =>
        Jobs.CommandResolver.FindExecutable(program, System.Environment.CurrentDirectory, System.Environment.GetEnvironmentVariable("PATH") ?? "");

    private static partial class Log
    {
        [LoggerMessage(LogEvents.Slurm + 1, LogLevel.Information, "Job {Number} handed to Slurm as job {SlurmId}")]
        public static partial void Submitted(ILogger logger, long number, long slurmId);

        [LoggerMessage(LogEvents.Slurm + 2, LogLevel.Warning, "Slurm does not answer ({Error}); Slurm jobs keep their last state and queued ones wait")]
        public static partial void ControllerDown(ILogger logger, string error);

        [LoggerMessage(LogEvents.Slurm + 3, LogLevel.Information, "Slurm answers again")]
        public static partial void ControllerBack(ILogger logger);
    }
}
