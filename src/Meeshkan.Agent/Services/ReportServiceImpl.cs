using Grpc.Core;
using Meeshkan.Agent.Jobs;
using Meeshkan.V1;

namespace Meeshkan.Agent.Services;

/// <summary>The ReportService: what running scripts tell the agent, handed to the application layer (Jobs/).</summary>
public sealed class ReportServiceImpl(JobReports reports, JobLifecycle lifecycle, JobResolver resolver) : ReportService.ReportServiceBase
{
    public override Task<ReportScalarsResponse> ReportScalars(ScalarBatch request, ServerCallContext context)
    {
        var (accepted, duplicate) = reports.ReportScalars(request);
        return Task.FromResult(new ReportScalarsResponse { Accepted = accepted, Duplicate = duplicate });
    }

    public override Task<AddConditionResponse> AddCondition(AddConditionRequest request, ServerCallContext context)
    {
        var (id, names) = reports.AddCondition(request);
        var response = new AddConditionResponse { ConditionId = id };
        response.Names.AddRange(names);
        return Task.FromResult(response);
    }

    public override Task<ConditionMetResponse> ReportConditionMet(ConditionMetRequest request, ServerCallContext context) =>
        Task.FromResult(new ConditionMetResponse { Recorded = reports.ConditionMet(request) });

    public override Task<NotifyResponse> Notify(NotifyRequest request, ServerCallContext context)
    {
        reports.Notify(request.JobId, request.Message);
        return Task.FromResult(new NotifyResponse());
    }

    public override Task<Job> RegisterJob(RegisterJobRequest request, ServerCallContext context)
    {
        var name = CommandResolver.ValidName(request.Name, request.Command.FirstOrDefault() ?? "external");
        var interval = JobServiceImpl.ReportInterval(request.ReportIntervalSeconds);
        var job = lifecycle.RegisterExternal(new Store.JobStore.NewJob(name, request.Command, request.WorkingDirectory, null, interval, Pid: request.Pid));
        return Task.FromResult(job.ToProto());
    }

    public override Task<Job> FinishJob(FinishJobRequest request, ServerCallContext context)
    {
        var job = resolver.RunningById(request.JobId);
        return Task.FromResult(lifecycle.FinishExternal(job, request.Success, request.ExitCode, request.Error).ToProto());
    }
}
