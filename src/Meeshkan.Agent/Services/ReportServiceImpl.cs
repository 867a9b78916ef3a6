using Grpc.Core;
using Meeshkan.Agent.Conditions;
using Meeshkan.Agent.Scheduler;
using Meeshkan.Agent.Store;
using Meeshkan.V1;

namespace Meeshkan.Agent.Services;

/// <summary>The ReportService: what running scripts tell the agent. Every input is checked here, whoever sends it.</summary>
public sealed class ReportServiceImpl(
    AgentOptions options, JobStore jobs, ScalarStore scalars, ConditionEngine conditions,
    IEnumerable<IAgentObserver> observers, TimeProvider time)
    : ReportService.ReportServiceBase
{
    public override Task<ReportScalarsResponse> ReportScalars(ScalarBatch request, ServerCallContext context)
    {
        var job = RunningJob(request.JobId);
        var (batch, refused, problem) = ScalarBatchValidator.Check(request);
        IReadOnlyList<ScalarStore.Series>? stored;
        try
        {
            stored = scalars.Append(job.Number, batch, time.GetUtcNow().ToUnixTimeMilliseconds() * 1000);
        }
        catch (ScalarStore.TooManyNamesException e)
        {
            throw new RpcException(new Status(StatusCode.ResourceExhausted, e.Message));
        }
        if (stored is not null)
        {
            conditions.Evaluate(job, stored);
            foreach (var observer in observers)
            {
                observer.ScalarsReported(job, stored);
            }
        }
        if (refused > 0)
        {
            // The good points are stored (at their true steps); the caller still learns that some were not.
            throw new RpcException(new Status(StatusCode.InvalidArgument,
                $"{refused} of {request.Values.Count} points refused: {problem}; the other {batch.Values.Count} are stored"));
        }
        return Task.FromResult(new ReportScalarsResponse { Accepted = batch.Values.Count, Duplicate = stored is null });
    }

    public override Task<AddConditionResponse> AddCondition(AddConditionRequest request, ServerCallContext context)
    {
        var job = RunningJob(request.JobId);
        var (id, names) = conditions.Add(job, request);
        var response = new AddConditionResponse { ConditionId = id };
        response.Names.AddRange(names);
        return Task.FromResult(response);
    }

    public override Task<ConditionMetResponse> ReportConditionMet(ConditionMetRequest request, ServerCallContext context)
    {
        var job = RunningJob(request.JobId);
        return Task.FromResult(new ConditionMetResponse { Recorded = conditions.RecordClientFiring(job, request.ConditionId, request.Values) });
    }

    public override Task<NotifyResponse> Notify(NotifyRequest request, ServerCallContext context)
    {
        var job = RunningJob(request.JobId);
        if (string.IsNullOrWhiteSpace(request.Message))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "notification message is empty"));
        }
        if (request.Message.Length > 4000)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "notification message is longer than 4000 characters"));
        }
        foreach (var observer in observers)
        {
            observer.CustomMessage(job, request.Message);
        }
        return Task.FromResult(new NotifyResponse());
    }

    public override Task<Job> RegisterJob(RegisterJobRequest request, ServerCallContext context)
    {
        string name;
        try
        {
            name = CommandResolver.ValidName(request.Name, request.Command.FirstOrDefault() ?? "external");
        }
        catch (ArgumentException e)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, e.Message));
        }
        if (request.ReportIntervalSeconds < 0)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "report interval must be a positive number of seconds"));
        }
        var interval = request.ReportIntervalSeconds == 0 ? JobServiceImpl.DefaultReportIntervalSeconds : request.ReportIntervalSeconds;
        var job = jobs.Insert(
            [new JobStore.NewJob(name, request.Command, request.WorkingDirectory, null, interval, External: true, Pid: request.Pid)],
            options.Home.JobFolder, JobState.Running)[0];
        Directory.CreateDirectory(job.OutputDirectory);
        foreach (var observer in observers)
        {
            observer.JobStarted(job);
        }
        return Task.FromResult(job.ToProto());
    }

    public override Task<Job> FinishJob(FinishJobRequest request, ServerCallContext context)
    {
        var job = RunningJob(request.JobId);
        if (!job.External)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, $"job {job.Number} is run by the agent; it ends when its process exits"));
        }
        var state = request.Success ? JobState.Finished : JobState.Failed;
        var ended = jobs.MarkEnded(job.Number, state, request.Success ? 0 : request.ExitCode, request.Success ? null : Truncate(request.Error, 2000))
            ?? jobs.GetByNumber(job.Number)!;
        foreach (var observer in observers)
        {
            observer.JobEnded(ended);
        }
        return Task.FromResult(ended.ToProto());
    }

    /// <summary>The job a report is for; it must exist and still run.</summary>
    private JobRecord RunningJob(string jobId)
    {
        if (string.IsNullOrEmpty(jobId))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "job_id is missing: report from a job (MEESHKAN_JOB_ID) or register one first"));
        }
        var job = jobs.GetById(jobId) ?? throw new RpcException(new Status(StatusCode.NotFound, $"no job has id '{JobResolver.Printable(jobId)}'"));
        if (job.IsEnded)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition,
                $"job {job.Number} has ended ({job.State.ToString().ToUpperInvariant()}); nothing more is stored for it"));
        }
        return job;
    }

    private static string Truncate(string text, int max) => text.Length <= max ? text : text[..max] + "…";
}
