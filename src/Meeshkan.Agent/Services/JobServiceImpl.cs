using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Meeshkan.Agent.Config;
using Meeshkan.Agent.Logs;
using Meeshkan.Agent.Scheduler;
using Meeshkan.Agent.Store;
using Meeshkan.V1;
using Microsoft.Extensions.Hosting;

namespace Meeshkan.Agent.Services;

/// <summary>The JobService: thin glue between the wire and the store, the scheduler and the log streamer.</summary>
public sealed class JobServiceImpl(
    AgentOptions options, AgentConfig config, JobStore jobs, NotificationStore notifications, ScalarStore scalars, ConditionStore conditionStore,
    JobScheduler scheduler, JobResolver resolver, LogStreamer logs, PythonCheck pythonCheck, AgentClock clock,
    IHostApplicationLifetime lifetime, Jobs.JobEnds ends, IChartRenderer? charts = null)
    : JobService.JobServiceBase
{
    public const int DefaultReportIntervalSeconds = 3600;

    public override Task<SubmitJobResponse> SubmitJob(SubmitJobRequest request, ServerCallContext context)
    {
        var (job, resolved) = Prepare(request);
        var record = jobs.Insert([job], options.Home.JobFolder)[0];
        scheduler.Wake();
        var response = new SubmitJobResponse { Job = record.ToProto() };
        if (resolved.Python is { } python && pythonCheck.MissingModules(python) is { } missing)
        {
            response.Warnings.Add($"{python} cannot import {missing}: `import meeshkan` reporting will be off in this job " +
                "(install python3-grpcio python3-protobuf, or submit with --python /usr/bin/python3)");
        }
        return Task.FromResult(response);
    }

    public override Task<SubmitJobsResponse> SubmitJobs(SubmitJobsRequest request, ServerCallContext context)
    {
        var prepared = request.Jobs.Select(r => Prepare(r).Job).ToList();
        var records = jobs.Insert(prepared, options.Home.JobFolder);
        scheduler.Wake();
        var response = new SubmitJobsResponse();
        response.Jobs.AddRange(records.Select(r => r.ToProto()));
        return Task.FromResult(response);
    }

    private (JobStore.NewJob Job, ResolvedCommand Resolved) Prepare(SubmitJobRequest request)
    {
        if (request.ReportIntervalSeconds < 0)
        {
            throw Invalid("report interval must be a positive number of seconds");
        }
        ResolvedCommand resolved;
        try
        {
            resolved = CommandResolver.Resolve(request.Command, request.Name, request.WorkingDirectory, request.Environment, request.Python, config);
        }
        catch (ArgumentException e)
        {
            throw Invalid(e.Message);
        }
        var interval = request.ReportIntervalSeconds == 0 ? DefaultReportIntervalSeconds : request.ReportIntervalSeconds;
        return (new JobStore.NewJob(resolved.Name, resolved.Argv, resolved.WorkingDirectory, resolved.Environment, interval), resolved);
    }

    public override Task<ListJobsResponse> ListJobs(ListJobsRequest request, ServerCallContext context)
    {
        var latest = notifications.LatestPerJob();
        var basic = request.View == JobView.Basic;
        var response = new ListJobsResponse();
        foreach (var job in jobs.List(request.States, request.Limit))
        {
            var proto = basic ? job.ToBasicProto() : job.ToProto();
            if (latest.TryGetValue(job.Number, out var last))
            {
                proto.LastNotification = basic ? new NotificationRecord { Status = last.Status } : last;
            }
            response.Jobs.Add(proto);
        }
        return Task.FromResult(response);
    }

    public override Task<Job> GetJob(GetJobRequest request, ServerCallContext context) =>
        Task.FromResult(resolver.Resolve(request.Identifier).ToProto());

    public override async Task<CancelJobResponse> CancelJob(CancelJobRequest request, ServerCallContext context)
    {
        var job = resolver.Resolve(request.Identifier);
        if (job.IsEnded)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition,
                $"job {job.Number} ({job.Name}) has already ended: {job.State.ToString().ToUpperInvariant()}"));
        }
        if (job.External)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition,
                $"job {job.Number} ({job.Name}) runs outside the agent (as_blocking_job); stop that process instead (pid {job.Pid})"));
        }
        TimeSpan? grace = request.GraceSeconds > 0 ? TimeSpan.FromSeconds(request.GraceSeconds) : null;
        await scheduler.CancelAsync(job, grace).ConfigureAwait(false);
        return new CancelJobResponse { Job = jobs.GetByNumber(job.Number)!.ToProto(), PreviousState = job.State };
    }

    public override Task StreamLogs(StreamLogsRequest request, IServerStreamWriter<LogChunk> responseStream, ServerCallContext context)
    {
        var job = resolver.Resolve(request.Identifier);
        return logs.StreamAsync(job, request.Follow, chunk => responseStream.WriteAsync(chunk), context.CancellationToken);
    }

    public override Task<ListNotificationsResponse> ListNotifications(ListNotificationsRequest request, ServerCallContext context)
    {
        var job = resolver.Resolve(request.Identifier);
        var response = new ListNotificationsResponse { Job = job.ToProto() };
        response.Notifications.AddRange(notifications.ForJob(job.Number));
        return Task.FromResult(response);
    }

    public override Task<GetReportResponse> GetReport(GetReportRequest request, ServerCallContext context)
    {
        var job = resolver.Resolve(request.Identifier);
        var response = new GetReportResponse { Job = job.ToProto() };
        response.Scalars.AddRange(scalars.Latest(job.Number));
        if (request.TrendPoints > 0)
        {
            foreach (var summary in response.Scalars)
            {
                var points = Math.Min(request.TrendPoints, 200);
                if (scalars.Overview(job.Number, summary.Name, points) is { } overview)
                {
                    summary.Trend.AddRange(Charts.Downsampler.Lttb(overview.Steps, overview.Values, points).Y);
                }
            }
        }
        if (!string.IsNullOrEmpty(request.HistoryName))
        {
            response.History.AddRange(scalars.History(job.Number, request.HistoryName)
                ?? throw new RpcException(new Status(StatusCode.NotFound,
                    $"job {job.Number} has no scalar named '{JobResolver.Printable(request.HistoryName)}'; `meeshkan report {job.Number}` lists its scalars")));
        }
        response.ConditionEvents.AddRange(conditionStore.ConditionEvents(job.Number));
        return Task.FromResult(response);
    }

    public override Task<RenderChartResponse> RenderChart(RenderChartRequest request, ServerCallContext context)
    {
        var job = resolver.Resolve(request.Identifier);
        if (charts is null)
        {
            throw new RpcException(new Status(StatusCode.Unimplemented, "this agent cannot draw charts"));
        }
        var png = charts.Render(job, request.Names, request.Width, request.Height);
        return Task.FromResult(new RenderChartResponse { Png = Google.Protobuf.ByteString.CopyFrom(png) });
    }

    public override Task<ClearResponse> Clear(ClearRequest request, ServerCallContext context)
    {
        var response = new ClearResponse();
        foreach (var job in jobs.DeleteEnded())
        {
            response.ClearedJobNumbers.Add(job.Number);
            if (Directory.Exists(job.OutputDirectory))
            {
                response.BytesFreed += new DirectoryInfo(job.OutputDirectory).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length);
                Directory.Delete(job.OutputDirectory, recursive: true);
            }
        }
        return Task.FromResult(response);
    }

    public override Task<SubmitJobResponse> RetryJob(RetryJobRequest request, ServerCallContext context)
    {
        var job = resolver.Resolve(request.Identifier);
        if (!job.IsEnded)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition,
                $"job {job.Number} ({job.Name}) is {job.State.ToString().ToUpperInvariant()}; retry an ended job (`meeshkan wait {job.Number}` or `meeshkan cancel {job.Number}` first)"));
        }
        if (job.External)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition,
                $"job {job.Number} ({job.Name}) ran outside the agent (as_blocking_job); run that program again instead"));
        }
        var full = jobs.GetWithEnvironment(job.Number) ?? throw new RpcException(new Status(StatusCode.NotFound, $"job {job.Number} was cleared meanwhile"));
        var record = jobs.Insert([new JobStore.NewJob(full.Name, full.Command, full.WorkingDirectory, full.Environment, full.ReportIntervalSeconds)],
            options.Home.JobFolder)[0];
        scheduler.Wake();
        return Task.FromResult(new SubmitJobResponse { Job = record.ToProto() });
    }

    public override async Task<WaitJobsResponse> WaitJobs(WaitJobsRequest request, ServerCallContext context)
    {
        if (request.Identifiers.Count == 0)
        {
            throw Invalid("name at least one job to wait for");
        }
        // Every identifier is resolved before waiting: a typo fails at once, not after the others end.
        var numbers = request.Identifiers.Select(i => resolver.Resolve(i).Number).ToList();
        var response = new WaitJobsResponse();
        foreach (var number in numbers)
        {
            response.Jobs.Add((await ends.WhenEndedAsync(number, context.CancellationToken).ConfigureAwait(false)).ToProto());
        }
        return response;
    }

    public override Task<AgentStatus> GetStatus(GetStatusRequest request, ServerCallContext context)
    {
        var counts = jobs.CountByState();
        return Task.FromResult(new AgentStatus
        {
            Version = AgentOptions.Version,
            StartedAt = Timestamp.FromDateTimeOffset(clock.StartedAt),
            SocketPath = options.Home.SocketPath,
            DataFolder = options.Home.Root,
            Python = CommandResolver.DefaultPython(config) ?? "(none found: set MEESHKAN_PYTHON or run `meeshkan setup --python PATH`)",
            Pid = Environment.ProcessId,
            Queued = counts.GetValueOrDefault(JobState.Queued),
            Running = counts.GetValueOrDefault(JobState.Running),
            Finished = counts.GetValueOrDefault(JobState.Finished),
            Failed = counts.GetValueOrDefault(JobState.Failed),
            Canceled = counts.GetValueOrDefault(JobState.Canceled),
        });
    }

    public override async Task<ShutdownResponse> Shutdown(ShutdownRequest request, ServerCallContext context)
    {
        var response = new ShutdownResponse();
        foreach (var job in jobs.List([JobState.Running]).Where(j => !j.External))
        {
            if (request.CancelJobs)
            {
                await scheduler.CancelAsync(job).ConfigureAwait(false);
                response.CanceledJobNumbers.Add(job.Number);
            }
            else
            {
                response.RunningJobNumbers.Add(job.Number);
            }
        }
        // Stop after this reply has gone out.
        _ = Task.Delay(100).ContinueWith(_ => lifetime.StopApplication(), TaskScheduler.Default);
        return response;
    }

    private static RpcException Invalid(string message) => new(new Status(StatusCode.InvalidArgument, message));
}
