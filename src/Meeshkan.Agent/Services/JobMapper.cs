using Google.Protobuf.WellKnownTypes;
using Meeshkan.Agent.Store;

namespace Meeshkan.Agent.Services;

/// <summary>Jobs to the wire and back: the one place that knows the proto's job types. The submitter's environment is never copied out.</summary>
public static class JobMapper
{
    public static V1.JobState ToProto(JobState state) => state switch
    {
        JobState.Queued => V1.JobState.Queued,
        JobState.Running => V1.JobState.Running,
        JobState.Finished => V1.JobState.Finished,
        JobState.Failed => V1.JobState.Failed,
        JobState.Canceled => V1.JobState.Canceled,
        _ => V1.JobState.Unspecified,
    };

    /// <summary>A state asked for on the wire; null for one no job is ever in.</summary>
    public static JobState? FromProto(V1.JobState state) => state switch
    {
        V1.JobState.Queued => JobState.Queued,
        V1.JobState.Running => JobState.Running,
        V1.JobState.Finished => JobState.Finished,
        V1.JobState.Failed => JobState.Failed,
        V1.JobState.Canceled => JobState.Canceled,
        _ => null,
    };

    /// <param name="stoppedBy">The condition met that stopped it (<c>JobQueries.StoppedBy</c>), for its <c>stopped_by</c>.</param>
    public static V1.Job ToProto(this JobRecord job, V1.ConditionEvent? stoppedBy = null)
    {
        // What `list` shows, and the rest.
        var proto = job.ToBasicProto();
        proto.Id = job.Id;
        proto.WorkingDirectory = job.WorkingDirectory;
        proto.ReportIntervalSeconds = job.ReportIntervalSeconds;
        proto.CreatedAt = Timestamp.FromDateTimeOffset(job.CreatedAt);
        proto.FailureReason = job.FailureReason ?? "";
        proto.OutputDirectory = job.OutputDirectory;
        proto.External = job.External;
        proto.Pid = job.Pid ?? 0;
        proto.Executor = job.Executor ?? "";
        if (job.ExitCode is { } code)
        {
            proto.HasExitCode = true;
            proto.ExitCode = code;
        }
        proto.Priority = job.Priority;
        proto.GpusRequested = job.GpuQuarters / 4.0;
        if (job.GpuIds is { } ids)
        {
            proto.GpuIdsRequested.AddRange(ids);
        }
        proto.After.AddRange(job.After);
        proto.AfterAny.AddRange(job.AfterAny);
        proto.TimeoutSeconds = job.TimeoutSeconds;
        proto.RetryDelaySeconds = job.RetryDelaySeconds;
        proto.StopIf = job.StopIf ?? "";
        if (stoppedBy is not null)
        {
            proto.StoppedBy = stoppedBy;
        }
        return proto;
    }

    /// <summary>A job's ended attempts (submit --retries), oldest first.</summary>
    public static void AddAttempts(V1.Job proto, IEnumerable<(int Attempt, DateTimeOffset? StartedAt, DateTimeOffset FinishedAt, int? ExitCode, string? Reason)> attempts)
    {
        foreach (var (attempt, started, finished, code, reason) in attempts)
        {
            var row = new V1.JobAttempt { Attempt = attempt, FinishedAt = Timestamp.FromDateTimeOffset(finished), Reason = reason ?? "" };
            if (started is { } s)
            {
                row.StartedAt = Timestamp.FromDateTimeOffset(s);
            }
            if (code is { } c)
            {
                row.HasExitCode = true;
                row.ExitCode = c;
            }
            proto.Attempts.Add(row);
        }
    }

    /// <summary>The fields of <see cref="V1.JobView.Basic"/>: what `meeshkan list` shows.</summary>
    public static V1.Job ToBasicProto(this JobRecord job)
    {
        var proto = new V1.Job
        {
            Number = job.Number, Name = job.Name, State = ToProto(job.State),
            ExecutorState = job.IsEnded ? "" : job.ExecutorState ?? "",
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
        AddResources(proto, job);
        return proto;
    }

    /// <summary>The GPUs and slot a job holds (running) or held.</summary>
    private static void AddResources(V1.Job proto, JobRecord job)
    {
        // What `list` shows with the status: the attempt, the wait for a retry, how the job was stopped.
        proto.Attempt = job.Attempt;
        proto.Retries = job.Retries;
        if (job.RetryAt is { } at)
        {
            proto.RetryAt = Timestamp.FromDateTimeOffset(at);
        }
        if (job.State == JobState.Failed && Jobs.JobOutcome.IsPipelineReason(job.FailureReason))
        {
            proto.FailureReason = job.FailureReason;
        }
        if (job.Gpus is { } gpus)
        {
            proto.Gpus.AddRange(gpus);
        }
        if (job.Slot is { } slot && job.State == JobState.Running)
        {
            proto.Slot = slot;
        }
    }
}
