using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Meeshkan.Agent.Config;
using Meeshkan.Agent.Jobs;
using Meeshkan.Agent.Logs;
using Meeshkan.Agent.Store;
using Meeshkan.V1;
using Microsoft.Extensions.Hosting;

namespace Meeshkan.Agent.Services;

/// <summary>The JobService: thin glue between the wire and the application layer (Jobs/) and the log streamer.</summary>
public sealed class JobServiceImpl(
    AgentOptions options, AgentConfig config, JobLifecycle lifecycle, JobQueries queries, QueueControl queue, LogStreamer logs,
    PythonCheck pythonCheck, AgentClock clock, IHostApplicationLifetime lifetime, JobEnds ends, IChartRenderer? charts = null)
    : JobService.JobServiceBase
{
    public const int DefaultReportIntervalSeconds = 3600;

    /// <summary>The report interval asked for, or the default for 0.</summary>
    public static int ReportInterval(int seconds) => seconds switch
    {
        < 0 => throw new InvalidRequestException("report interval must be a positive number of seconds"),
        0 => DefaultReportIntervalSeconds,
        _ => seconds,
    };

    public override Task<SubmitJobResponse> SubmitJob(SubmitJobRequest request, ServerCallContext context)
    {
        var (job, resolved) = Prepare(request);
        var record = lifecycle.Submit([job])[0];
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
        var records = lifecycle.Submit(prepared);
        var response = new SubmitJobsResponse();
        response.Jobs.AddRange(records.Select(r => r.ToProto()));
        return Task.FromResult(response);
    }

    private (JobStore.NewJob Job, ResolvedCommand Resolved) Prepare(SubmitJobRequest request)
    {
        var interval = ReportInterval(request.ReportIntervalSeconds);
        var executor = Executors.Slurm.SlurmRequest.ExecutorFor(request, config);
        // Slurm hands out a Slurm job's GPUs (--gres), not this machine: only a local job's GPUs are checked here.
        var gpus = executor is null ? queue.Check(request.Gpus, request.GpuIds) : null;
        var resolved = CommandResolver.Resolve(request.Command, request.Name, request.WorkingDirectory, request.Environment, request.Python, config);
        var environment = executor is null
            ? Executors.Slurm.SlurmRequest.LocalOnly(request, resolved.Environment)
            : Executors.Slurm.SlurmRequest.WithOptions(resolved.Environment, request, config);
        var job = new JobStore.NewJob(resolved.Name, resolved.Argv, resolved.WorkingDirectory, environment, interval, Executor: executor)
        {
            ScalarPattern = OutputScalars.OutputParser.Option(request.ScalarsFromOutput, request.ScalarPattern),
            Priority = request.Priority,
            GpuQuarters = gpus?.Amount.Quarters ?? 0,
            GpuIds = gpus?.Ids,
        };
        return (PipelineOptions.Apply(job, request, queries.FindAll), resolved);
    }

    public override Task<ListJobsResponse> ListJobs(ListJobsRequest request, ServerCallContext context)
    {
        var latest = queries.LatestNotifications();
        var basic = request.View == JobView.Basic;
        var response = new ListJobsResponse();
        var states = request.States.Select(JobMapper.FromProto).OfType<JobState>().ToList();
        if (request.States.Count > 0 && states.Count == 0)
        {
            return Task.FromResult(response); // only states no job is in
        }
        var jobs = queries.List(states, request.Limit);
        var progress = queries.Progress(jobs);
        foreach (var job in jobs)
        {
            var proto = basic ? job.ToBasicProto() : job.ToProto(queries.StoppedBy(job));
            proto.WaitingReason = queue.WhyWaiting(job) ?? "";
            if (progress.TryGetValue((job.Number, OutputScalars.OutputParser.ProgressName), out var percent))
            {
                proto.Progress = percent;
            }
            if (progress.TryGetValue((job.Number, OutputScalars.OutputParser.EtaName), out var eta))
            {
                proto.EtaSeconds = eta;
            }
            if (latest.TryGetValue(job.Number, out var last))
            {
                proto.LastNotification = basic ? new NotificationRecord { Status = last.Status } : last;
            }
            response.Jobs.Add(proto);
        }
        return Task.FromResult(response);
    }

    public override Task<Job> GetJob(GetJobRequest request, ServerCallContext context)
    {
        var job = queries.Resolve(request.Identifier);
        var proto = job.ToProto(queries.StoppedBy(job));
        proto.WaitingReason = queue.WhyWaiting(job) ?? "";
        JobMapper.AddAttempts(proto, queries.Attempts(job.Number));
        return Task.FromResult(proto);
    }

    public override Task<FindJobsResponse> FindJobs(FindJobsRequest request, ServerCallContext context)
    {
        var response = new FindJobsResponse();
        response.Jobs.AddRange(queries.ResolveAll(request.Identifier).Select(j => j.ToProto()));
        return Task.FromResult(response);
    }

    public override async Task<CancelJobResponse> CancelJob(CancelJobRequest request, ServerCallContext context)
    {
        var job = queries.Resolve(request.Identifier);
        TimeSpan? grace = request.GraceSeconds > 0 ? TimeSpan.FromSeconds(request.GraceSeconds) : null;
        var canceled = await lifecycle.CancelAsync(job, grace).ConfigureAwait(false);
        return new CancelJobResponse { Job = canceled.ToProto(), PreviousState = JobMapper.ToProto(job.State) };
    }

    public override Task StreamLogs(StreamLogsRequest request, IServerStreamWriter<LogChunk> responseStream, ServerCallContext context)
    {
        var job = queries.Resolve(request.Identifier);
        if (request.Attempt != 0 && request.Attempt != job.Attempt)
        {
            // An earlier attempt's output, kept aside when it failed (JobFolder.Attempt).
            if (request.Attempt < 0 || request.Attempt > job.Attempt)
            {
                throw new NotFoundException(job.Attempt == 0
                    ? $"job {job.Number} has not started yet: it has no attempt {request.Attempt}"
                    : $"job {job.Number} has attempts 1 to {job.Attempt}, not {request.Attempt}");
            }
            job = job with { OutputDirectory = job.Folder.Attempt(request.Attempt).Path };
            return logs.StreamAsync(job, follow: false, chunk => responseStream.WriteAsync(chunk), context.CancellationToken);
        }
        return logs.StreamAsync(job, request.Follow, chunk => responseStream.WriteAsync(chunk), context.CancellationToken);
    }

    public override Task<ListNotificationsResponse> ListNotifications(ListNotificationsRequest request, ServerCallContext context)
    {
        var job = queries.Resolve(request.Identifier);
        var response = new ListNotificationsResponse { Job = job.ToProto() };
        response.Notifications.AddRange(queries.Notifications(job.Number));
        return Task.FromResult(response);
    }

    public override Task<GetReportResponse> GetReport(GetReportRequest request, ServerCallContext context)
    {
        var job = queries.Resolve(request.Identifier);
        var attempt = JobQueries.ScalarAttempt(job, request.Attempt);
        var response = new GetReportResponse { Job = job.ToProto(queries.StoppedBy(job)), Attempt = attempt };
        response.Scalars.AddRange(queries.LatestScalars(job.Number, attempt));
        if (request.TrendPoints > 0)
        {
            foreach (var summary in response.Scalars)
            {
                summary.Trend.AddRange(queries.Trend(job.Number, summary.Name, Math.Min(request.TrendPoints, 200), attempt));
            }
        }
        if (!string.IsNullOrEmpty(request.HistoryName))
        {
            response.History.AddRange(queries.History(job, request.HistoryName, attempt));
        }
        response.ConditionEvents.AddRange(queries.ConditionEvents(job.Number));
        return Task.FromResult(response);
    }

    public override Task<RenderChartResponse> RenderChart(RenderChartRequest request, ServerCallContext context)
    {
        var job = queries.Resolve(request.Identifier);
        if (charts is null)
        {
            throw new NotAvailableException("this agent cannot draw charts");
        }
        var png = charts.Render(job, request.Names, request.Width, request.Height, request.LogY, JobQueries.ScalarAttempt(job, request.Attempt));
        return Task.FromResult(new RenderChartResponse { Png = Google.Protobuf.ByteString.CopyFrom(png) });
    }

    public override Task<ClearResponse> Clear(ClearRequest request, ServerCallContext context)
    {
        var (numbers, bytes) = lifecycle.ClearEnded();
        var response = new ClearResponse { BytesFreed = bytes };
        response.ClearedJobNumbers.AddRange(numbers);
        return Task.FromResult(response);
    }

    public override Task<AgentStatus> SetQueuePaused(SetQueuePausedRequest request, ServerCallContext context)
    {
        queue.SetPaused(request.Paused);
        return GetStatus(new GetStatusRequest(), context);
    }

    public override Task<AgentStatus> ReloadSettings(ReloadSettingsRequest request, ServerCallContext context)
    {
        queue.Reload();
        return GetStatus(new GetStatusRequest(), context);
    }

    public override Task<SubmitJobResponse> RetryJob(RetryJobRequest request, ServerCallContext context)
    {
        var again = lifecycle.Retry(queries.Resolve(request.Identifier));
        return Task.FromResult(new SubmitJobResponse { Job = again.ToProto() });
    }

    public override async Task<WaitJobsResponse> WaitJobs(WaitJobsRequest request, ServerCallContext context)
    {
        if (request.Identifiers.Count == 0)
        {
            throw new InvalidRequestException("name at least one job to wait for: meeshkan wait JOB [JOB...]");
        }
        // Every identifier is resolved before waiting: a typo fails at once, not after the others end.
        var numbers = request.Identifiers.Select(i => queries.Resolve(i).Number).ToList();
        var response = new WaitJobsResponse();
        foreach (var ended in await ends.WhenEndedAsync(numbers, context.CancellationToken).ConfigureAwait(false))
        {
            response.Jobs.Add(ended.ToProto(queries.StoppedBy(ended)));
        }
        return response;
    }

    public override Task<AgentStatus> GetStatus(GetStatusRequest request, ServerCallContext context)
    {
        var counts = queries.CountByState();
        var now = queue.Snapshot();
        var status = new AgentStatus
        {
            Slots = now.Slots,
            Paused = now.Paused,
            GpuBusyMemoryMib = (int)now.BusyMemoryMib,
            ReserveAfterSeconds = (int)now.ReserveAfter.TotalSeconds,
            Version = AgentOptions.Version,
            StartedAt = Timestamp.FromDateTimeOffset(clock.StartedAt),
            SocketPath = options.Home.SocketPath,
            DataFolder = options.Home.Root,
            Listen = (string.IsNullOrWhiteSpace(options.Listen) ? config.Listen : options.Listen) ?? "",
            Python = CommandResolver.DefaultPython(config) ?? "(none found: set MEESHKAN_PYTHON or run `meeshkan setup --python PATH`)",
            Pid = Environment.ProcessId,
            Queued = counts.GetValueOrDefault(JobState.Queued),
            Running = counts.GetValueOrDefault(JobState.Running),
            Finished = counts.GetValueOrDefault(JobState.Finished),
            Failed = counts.GetValueOrDefault(JobState.Failed),
            Canceled = counts.GetValueOrDefault(JobState.Canceled),
        };
        foreach (var (gpu, busy, holders) in now.Gpus)
        {
            var row = new GpuStatus
            {
                Index = gpu.Index, Uuid = gpu.Uuid, Name = gpu.Name, MemoryTotalMib = gpu.MemoryTotalMib, MemoryUsedMib = gpu.MemoryUsedMib,
                BusyOutside = busy,
            };
            row.Holders.AddRange(holders.OrderBy(h => h.Key).Select(h => new GpuHolder { JobNumber = h.Key, Share = h.Value / 4.0 }));
            status.Gpus.Add(row);
        }
        return Task.FromResult(status);
    }

    public override async Task<ShutdownResponse> Shutdown(ShutdownRequest request, ServerCallContext context)
    {
        var response = new ShutdownResponse();
        foreach (var job in queries.RunByAgent())
        {
            if (request.CancelJobs)
            {
                try
                {
                    await lifecycle.CancelAsync(job).ConfigureAwait(false);
                }
                catch (NotAllowedException)
                {
                    // It ended meanwhile.
                }
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
}
