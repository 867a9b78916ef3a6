using System.Collections.Concurrent;
using Grpc.Core;
using Meeshkan.V1;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Meeshkan.Client.Tests;

/// <summary>
/// A stand-in for the agent: a ReportService on a Unix socket that records every request and, like the
/// real agent, stores a ScalarBatch only once per (client_id, sequence). Knobs make it fail the way the real one can.
/// </summary>
public sealed class FakeAgent : ReportService.ReportServiceBase, IAsyncDisposable
{
    private readonly Lock _lock = new();
    private readonly List<(string Method, object Request)> _calls = [];
    private readonly Dictionary<(string, ulong), ScalarBatch> _stored = [];
    private readonly Dictionary<string, JobState> _jobs = [];
    private WebApplication? _app;
    private long _storedPoints;

    public FakeAgent(string socketPath) => SocketPath = socketPath;

    public string SocketPath { get; }

    /// <summary>Codes to answer the next ReportScalars calls with, after storing the batch (a lost reply).</summary>
    public ConcurrentQueue<StatusCode> FailAfterStore { get; } = new();

    /// <summary>When set, every batch is refused with this code (nothing stored).</summary>
    public StatusCode? RefuseScalars { get; set; }

    /// <summary>Expressions containing this text are refused with InvalidArgument.</summary>
    public string InvalidExpressionMarker { get; set; } = "??";

    /// <summary>Keep the batches (false: only count points, for throughput runs).</summary>
    public bool KeepBatches { get; set; } = true;

    public long StoredPoints => Interlocked.Read(ref _storedPoints);

    public static FakeAgent Create() => new(Path.Combine(Directory.CreateTempSubdirectory("csdk-").FullName, "agent.sock"));

    public async Task<FakeAgent> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.ListenUnixSocket(SocketPath, o => o.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc(o =>
        {
            o.MaxReceiveMessageSize = 64 * 1024 * 1024;
            o.EnableDetailedErrors = true;
        });
        builder.Services.AddSingleton(this);
        _app = builder.Build();
        _app.MapGrpcService<FakeAgent>();
        await _app.StartAsync();
        return this;
    }

    public async Task StopAsync()
    {
        if (_app is { } app)
        {
            _app = null;
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        try
        {
            Directory.Delete(Path.GetDirectoryName(SocketPath)!, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    // ---- what the tests read --------------------------------------------------------------------------

    public List<T> Requests<T>(string method)
    {
        lock (_lock)
        {
            return [.. _calls.Where(c => c.Method == method).Select(c => (T)c.Request)];
        }
    }

    /// <summary>Stored points of <paramref name="jobId"/>, in sequence order, as (name, value, step or -1, wall time).</summary>
    public List<(string Name, double Value, long Step, long WallTimeUs)> Points(string? jobId = null)
    {
        List<ScalarBatch> batches;
        lock (_lock)
        {
            batches = [.. _stored.Values.Where(b => jobId is null || b.JobId == jobId).OrderBy(b => b.Sequence)];
        }
        return [.. batches.SelectMany(b => b.Values.Select((v, i) =>
            (b.Names[(int)b.NameIndex[i]], v, b.Steps.Count > 0 ? b.Steps[i] : -1L, b.WallTimeUs[i])))];
    }

    public JobState? JobStateOf(string jobId)
    {
        lock (_lock)
        {
            return _jobs.TryGetValue(jobId, out var state) ? state : null;
        }
    }

    public static async Task<bool> WaitForAsync(Func<bool> condition, double seconds = 10)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (DateTime.UtcNow < deadline)
        {
            if (condition())
            {
                return true;
            }
            await Task.Delay(20);
        }
        return condition();
    }

    private void Record(string method, object request)
    {
        lock (_lock)
        {
            _calls.Add((method, request));
        }
    }

    // ---- ReportService --------------------------------------------------------------------------------

    public override Task<ReportScalarsResponse> ReportScalars(ScalarBatch request, ServerCallContext context)
    {
        if (KeepBatches)
        {
            Record("ReportScalars", request);
        }
        if (RefuseScalars is { } refused)
        {
            throw new RpcException(new Status(refused, "job 7 has ended (FINISHED); nothing more is stored for it"));
        }
        bool duplicate;
        lock (_lock)
        {
            var key = (request.ClientId, request.Sequence);
            duplicate = _stored.ContainsKey(key);
            if (!duplicate)
            {
                _stored[key] = KeepBatches ? request : new ScalarBatch { JobId = request.JobId, Sequence = request.Sequence };
                _storedPoints += request.Values.Count;
            }
        }
        if (FailAfterStore.TryDequeue(out var code))
        {
            throw new RpcException(new Status(code, "reply lost"));
        }
        return Task.FromResult(new ReportScalarsResponse { Accepted = request.Values.Count, Duplicate = duplicate });
    }

    public override Task<AddConditionResponse> AddCondition(AddConditionRequest request, ServerCallContext context)
    {
        Record("AddCondition", request);
        if (!request.EvaluatedByClient && request.Expression.Contains(InvalidExpressionMarker, StringComparison.Ordinal))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"cannot parse '{request.Expression}'"));
        }
        var response = new AddConditionResponse { ConditionId = Guid.NewGuid().ToString() };
        response.Names.AddRange(request.Names);
        return Task.FromResult(response);
    }

    public override Task<ConditionMetResponse> ReportConditionMet(ConditionMetRequest request, ServerCallContext context)
    {
        Record("ReportConditionMet", request);
        return Task.FromResult(new ConditionMetResponse { Recorded = true });
    }

    public override Task<NotifyResponse> Notify(NotifyRequest request, ServerCallContext context)
    {
        Record("Notify", request);
        return Task.FromResult(new NotifyResponse());
    }

    public override Task<Job> RegisterJob(RegisterJobRequest request, ServerCallContext context)
    {
        Record("RegisterJob", request);
        var job = new Job { Id = Guid.NewGuid().ToString(), Name = request.Name, State = JobState.Running, External = true, Pid = request.Pid };
        lock (_lock)
        {
            _jobs[job.Id] = JobState.Running;
        }
        return Task.FromResult(job);
    }

    public override Task<Job> FinishJob(FinishJobRequest request, ServerCallContext context)
    {
        Record("FinishJob", request);
        var state = request.Success ? JobState.Finished : JobState.Failed;
        lock (_lock)
        {
            _jobs[request.JobId] = state;
        }
        return Task.FromResult(new Job { Id = request.JobId, State = state });
    }
}
