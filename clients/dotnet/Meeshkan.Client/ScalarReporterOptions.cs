namespace Meeshkan;

/// <summary>How a <see cref="ScalarReporter"/> finds the agent, batches and retries. Defaults suit a training loop.</summary>
public sealed class ScalarReporterOptions
{
    /// <summary>The environment variable the agent sets to the id of the job it runs.</summary>
    public const string JobIdVariable = "MEESHKAN_JOB_ID";

    /// <summary>The environment variable that names the agent's socket explicitly.</summary>
    public const string SocketVariable = "MEESHKAN_SOCKET";

    /// <summary>
    /// The job the scalars belong to. Default: <c>MEESHKAN_JOB_ID</c>, set by the agent for submitted jobs;
    /// null outside a job (scalars are dropped with one warning until a <see cref="MeeshkanJob"/> starts).
    /// </summary>
    public string? JobId { get; set; } = NullIfEmpty(Environment.GetEnvironmentVariable(JobIdVariable));

    /// <summary>The agent's Unix socket. Default: <c>MEESHKAN_SOCKET</c>, else <c>$MEESHKAN_HOME/agent.sock</c>.</summary>
    public string SocketPath { get; set; } =
        NullIfEmpty(Environment.GetEnvironmentVariable(SocketVariable)) ?? MeeshkanHome.FromEnvironment().SocketPath;

    /// <summary>
    /// The agent's TLS listener (<c>https://HOST:PORT</c>), for a job that cannot reach its socket (a Slurm job on a
    /// compute node). Default: <c>MEESHKAN_AGENT_URL</c>; when set, it is used instead of <see cref="SocketPath"/>
    /// with <see cref="AgentToken"/> and the pinned <see cref="AgentFingerprint"/>.
    /// </summary>
    public Uri? AgentUrl { get; set; } =
        Uri.TryCreate(Environment.GetEnvironmentVariable("MEESHKAN_AGENT_URL"), UriKind.Absolute, out var url) ? url : null;

    /// <summary>The job's token for the listener. Default: <c>MEESHKAN_AGENT_TOKEN</c>.</summary>
    public string? AgentToken { get; set; } = NullIfEmpty(Environment.GetEnvironmentVariable("MEESHKAN_AGENT_TOKEN"));

    /// <summary>The SHA-256 fingerprint of the listener's certificate, the only one trusted. Default: <c>MEESHKAN_AGENT_FINGERPRINT</c>.</summary>
    public string? AgentFingerprint { get; set; } = NullIfEmpty(Environment.GetEnvironmentVariable("MEESHKAN_AGENT_FINGERPRINT"));

    /// <summary>Where the agent is, as shown in warnings: its listener's URL or its socket.</summary>
    internal string Where => AgentUrl?.ToString() ?? SocketPath;

    /// <summary>The channel to the agent: its TLS listener when <see cref="AgentUrl"/> is set, else its socket.</summary>
    internal Grpc.Net.Client.GrpcChannel OpenChannel() =>
        AgentUrl is { } remote
            ? AgentChannel.ForRemote(remote, AgentToken, CertificateFingerprint.Parse(AgentFingerprint)
                ?? throw new ArgumentException("MEESHKAN_AGENT_URL is set without a valid MEESHKAN_AGENT_FINGERPRINT"))
            : AgentChannel.ForSocket(SocketPath);

    /// <summary>How often the background pump sends what was reported. Default 200 ms.</summary>
    public TimeSpan SendInterval { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Most points in one ReportScalars call; reaching it also wakes the pump early. Default 100,000.</summary>
    public int MaxBatchPoints { get; set; } = 100_000;

    /// <summary>
    /// Most points kept while the agent cannot be reached; beyond it the oldest are dropped with one
    /// warning. Default 5,000,000 (about 150 MB).
    /// </summary>
    public int MaxBufferedPoints { get; set; } = 5_000_000;

    /// <summary>Deadline of one call to the agent. Default 10 s.</summary>
    public TimeSpan CallTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>First wait before retrying an unreachable agent; it doubles up to <see cref="MaxRetryDelay"/>. Default 0.5 s.</summary>
    public TimeSpan InitialRetryDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Longest wait between retries. Default 10 s.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long disposal (and process exit) keeps retrying to deliver what is buffered when the agent
    /// does not answer. Default 5 s.
    /// </summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Flush when the process exits (<see cref="AppDomain.ProcessExit"/>). Default true.</summary>
    public bool FlushOnProcessExit { get; set; } = true;

    /// <summary>
    /// Where problems go (agent unreachable, batch refused, buffer full, a condition that throws); each
    /// kind is reported once. Default: a line on standard error. Nothing is ever thrown into the caller.
    /// </summary>
    public Action<string>? Warning { get; set; }

    internal void Validate()
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(SocketPath);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(SendInterval, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxBatchPoints, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxBufferedPoints, MaxBatchPoints);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(CallTimeout, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(InitialRetryDelay, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxRetryDelay, InitialRetryDelay);
        ArgumentOutOfRangeException.ThrowIfLessThan(ShutdownTimeout, TimeSpan.Zero);
    }

    internal ScalarReporterOptions Clone() => (ScalarReporterOptions)MemberwiseClone();

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
