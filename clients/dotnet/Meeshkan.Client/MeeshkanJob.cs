using Grpc.Core;
using Meeshkan.V1;

namespace Meeshkan;

/// <summary>
/// The current process, run by hand, registered with the agent as a job (RUNNING, external) so that its
/// scalars, conditions and notifications are recorded as for a submitted job.
/// </summary>
/// <example>
/// <code>
/// await MeeshkanJob.RunAsync("resnet", TimeSpan.FromMinutes(10), async () =&gt;
/// {
///     for (var epoch = 0; epoch &lt; 100; epoch++) Scalars.Report("train loss", await TrainEpochAsync());
/// });
/// </code>
/// </example>
/// <remarks>
/// Inside a job the agent started (<c>MEESHKAN_JOB_ID</c> is set) nothing is registered: the program
/// simply reports to that job. When the agent cannot be reached the program still runs, unrecorded.
/// </remarks>
public sealed class MeeshkanJob : IAsyncDisposable
{
    private static readonly TimeSpan s_finishFlushTimeout = TimeSpan.FromSeconds(60);

    private readonly ScalarReporter _reporter;
    private readonly bool _owned;
    private Exception? _failure;
    private int _finished;

    private MeeshkanJob(ScalarReporter reporter, string? id, bool owned)
    {
        _reporter = reporter;
        Id = id;
        _owned = owned;
        if (owned)
        {
            AppDomain.CurrentDomain.ProcessExit += OnProcessExit;
        }
    }

    /// <summary>The job's id; null when the agent could not be reached (nothing is recorded then).</summary>
    public string? Id { get; }

    /// <summary>True when this object registered the job and finishes it on dispose.</summary>
    public bool IsRegistered => _owned;

    /// <summary>
    /// Registers the current process as job <paramref name="name"/> (RegisterJob: name, report interval,
    /// command line, working directory, pid). Scalars reported from now on belong to it.
    /// </summary>
    /// <param name="name">The job's name, as <c>meeshkan list</c> shows it.</param>
    /// <param name="reportInterval">Time between interval notifications; null means the agent's default (1 hour).</param>
    /// <param name="reporter">The reporter to use; by default the process-wide one of <see cref="Scalars"/>.</param>
    /// <param name="cancellationToken">Cancels the registration.</param>
    /// <exception cref="ArgumentException">The name is empty, or the agent refused it.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="reportInterval"/> is not positive.</exception>
    public static async Task<MeeshkanJob> StartAsync(string name, TimeSpan? reportInterval = null,
        ScalarReporter? reporter = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (reportInterval is { } interval)
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero, nameof(reportInterval));
        }
        reporter ??= Scalars.Reporter;
        if (reporter.JobId is { } existing)
        {
            return new MeeshkanJob(reporter, existing, owned: false); // already a job: report to it
        }
        var request = new RegisterJobRequest
        {
            Name = name,
            ReportIntervalSeconds = reportInterval is { } r ? (int)Math.Max(1, Math.Round(r.TotalSeconds)) : 0,
            WorkingDirectory = Environment.CurrentDirectory,
            Pid = Environment.ProcessId,
        };
        request.Command.AddRange(CommandLine());
        try
        {
            var job = await reporter.Client.RegisterJobAsync(request, deadline: DateTime.UtcNow + reporter.Options.CallTimeout,
                cancellationToken: cancellationToken).ConfigureAwait(false);
            reporter.SetJob(job.Id);
            return new MeeshkanJob(reporter, job.Id, owned: true);
        }
        catch (RpcException error) when (error.StatusCode == StatusCode.InvalidArgument)
        {
            throw new ArgumentException($"the agent refused job '{name}': {error.Status.Detail}", nameof(name), error);
        }
        catch (RpcException error) when (error.StatusCode != StatusCode.Cancelled || !cancellationToken.IsCancellationRequested)
        {
            reporter.Warnings.Once("register-failed",
                $"could not register job '{name}' with the Meeshkan agent at {reporter.SocketPath} ({error.StatusCode}); running it without recording");
            return new MeeshkanJob(reporter, null, owned: false);
        }
    }

    /// <summary>
    /// Runs <paramref name="body"/> as job <paramref name="name"/>: registers it, then finishes it as successful,
    /// or as failed with the exception, which is rethrown.
    /// </summary>
    /// <inheritdoc cref="StartAsync(string, TimeSpan?, ScalarReporter?, CancellationToken)"/>
    public static async Task RunAsync(string name, TimeSpan? reportInterval, Func<Task> body, ScalarReporter? reporter = null)
    {
        ArgumentNullException.ThrowIfNull(body);
        await RunAsync<bool>(name, reportInterval, async () =>
        {
            await body().ConfigureAwait(false);
            return true;
        }, reporter).ConfigureAwait(false);
    }

    /// <inheritdoc cref="RunAsync(string, TimeSpan?, Func{Task}, ScalarReporter?)"/>
    /// <returns>What <paramref name="body"/> returned.</returns>
    public static async Task<T> RunAsync<T>(string name, TimeSpan? reportInterval, Func<Task<T>> body, ScalarReporter? reporter = null)
    {
        ArgumentNullException.ThrowIfNull(body);
        var job = await StartAsync(name, reportInterval, reporter).ConfigureAwait(false);
        T result;
        try
        {
            result = await body().ConfigureAwait(false);
        }
        catch (Exception error)
        {
            await job.FinishAsync(error).ConfigureAwait(false);
            throw;
        }
        await job.FinishAsync().ConfigureAwait(false);
        return result;
    }

    /// <summary>
    /// Marks the job as failed with <paramref name="error"/>; disposal then finishes it as FAILED.
    /// (<c>await using</c> cannot see an exception; <see cref="RunAsync(string, TimeSpan?, Func{Task}, ScalarReporter?)"/> can.)
    /// </summary>
    public void Fail(Exception error)
    {
        ArgumentNullException.ThrowIfNull(error);
        _failure = error;
    }

    /// <summary>
    /// Flushes the scalars, then tells the agent the job ended: successfully when <paramref name="error"/> is null,
    /// else failed with it. Called once; later calls do nothing. Never throws for an agent problem.
    /// </summary>
    public async Task FinishAsync(Exception? error = null)
    {
        if (!_owned)
        {
            await _reporter.FlushUntilAsync(_reporter.Options.ShutdownTimeout).ConfigureAwait(false);
            return;
        }
        if (Interlocked.Exchange(ref _finished, 1) != 0)
        {
            return;
        }
        AppDomain.CurrentDomain.ProcessExit -= OnProcessExit;
        await FinishCoreAsync(error is null, error is null ? 0 : 1, error?.ToString() ?? "").ConfigureAwait(false);
    }

    private async Task FinishCoreAsync(bool success, int exitCode, string error)
    {
        await _reporter.FlushUntilAsync(s_finishFlushTimeout).ConfigureAwait(false);
        _reporter.SetJob(null);
        try
        {
            await _reporter.Client.FinishJobAsync(new FinishJobRequest { JobId = Id, Success = success, ExitCode = exitCode, Error = error },
                deadline: DateTime.UtcNow + _reporter.Options.CallTimeout).ConfigureAwait(false);
        }
        catch (RpcException rpcError)
        {
            _reporter.Warnings.Once("finish-failed", $"could not tell the agent that job {Id} ended ({rpcError.StatusCode}: {rpcError.Status.Detail})");
        }
    }

    /// <summary>Environment.Exit or the end of Main while the job is open: finish it with the process's exit code.</summary>
    private void OnProcessExit(object? sender, EventArgs e)
    {
        if (Interlocked.Exchange(ref _finished, 1) != 0)
        {
            return;
        }
        try
        {
            var code = Environment.ExitCode;
            FinishCoreAsync(code == 0 && _failure is null, code == 0 ? 1 : code,
                _failure?.ToString() ?? (code == 0 ? "" : $"the process exited with code {code}")).GetAwaiter().GetResult();
        }
        catch (Exception)
        {
            // Nothing may escape a process-exit handler.
        }
    }

    /// <summary>Finishes the job: failed if <see cref="Fail(Exception)"/> was called, else successful.</summary>
    public async ValueTask DisposeAsync() => await FinishAsync(_failure).ConfigureAwait(false);

    private static IEnumerable<string> CommandLine()
    {
        var args = Environment.GetCommandLineArgs();
        // argv[0] is the entry assembly; the process path says how it was started (apphost or dotnet).
        var process = Environment.ProcessPath;
        if (process is null)
        {
            return args;
        }
        return Path.GetFileNameWithoutExtension(process) == "dotnet" ? [process, .. args] : [process, .. args.Skip(1)];
    }
}
