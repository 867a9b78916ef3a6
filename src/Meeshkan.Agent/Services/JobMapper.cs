using Google.Protobuf.WellKnownTypes;
using Meeshkan.Agent.Store;

namespace Meeshkan.Agent.Services;

/// <summary>Job rows to the wire. The submitter's environment is never copied out.</summary>
public static class JobMapper
{
    public static V1.Job ToProto(this JobRecord job)
    {
        var proto = new V1.Job
        {
            Id = job.Id,
            Number = job.Number,
            Name = job.Name,
            State = job.State,
            WorkingDirectory = job.WorkingDirectory,
            ReportIntervalSeconds = job.ReportIntervalSeconds,
            CreatedAt = Timestamp.FromDateTimeOffset(job.CreatedAt),
            FailureReason = job.FailureReason ?? "",
            OutputDirectory = job.OutputDirectory,
            External = job.External,
            Pid = job.Pid ?? 0,
        };
        proto.Command.AddRange(job.Command);
        if (job.StartedAt is { } started)
        {
            proto.StartedAt = Timestamp.FromDateTimeOffset(started);
        }
        if (job.FinishedAt is { } finished)
        {
            proto.FinishedAt = Timestamp.FromDateTimeOffset(finished);
        }
        if (job.ExitCode is { } code)
        {
            proto.HasExitCode = true;
            proto.ExitCode = code;
        }
        return proto;
    }

    /// <summary>The fields of <see cref="V1.JobView.Basic"/>: what `meeshkan list` shows.</summary>
    public static V1.Job ToBasicProto(this JobRecord job)
    {
        var proto = new V1.Job { Number = job.Number, Name = job.Name, State = job.State };
        proto.Command.AddRange(job.Command);
        if (job.StartedAt is { } started)
        {
            proto.StartedAt = Timestamp.FromDateTimeOffset(started);
        }
        if (job.FinishedAt is { } finished)
        {
            proto.FinishedAt = Timestamp.FromDateTimeOffset(finished);
        }
        return proto;
    }
}
