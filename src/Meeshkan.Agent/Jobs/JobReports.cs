using Meeshkan.Agent.Conditions;
using Meeshkan.Agent.Store;
using Meeshkan.V1;

namespace Meeshkan.Agent.Jobs;

/// <summary>
/// What running scripts tell the agent about their job: scalars (stored, then conditions evaluated, then observers
/// told), conditions, messages. The job must exist and not have ended.
/// </summary>
public sealed class JobReports(JobResolver resolver, ScalarStore scalars, ConditionEngine conditions, JobObservers observers, TimeProvider time)
{
    public const int MaxMessageLength = 4000;

    /// <summary>
    /// Checks a batch and stores its good points once (a retried batch is a duplicate). Points with a bad name are
    /// refused alone: the others are stored at their true steps, then the refusal is an error naming the first bad name.
    /// </summary>
    public (int Accepted, bool Duplicate) ReportScalars(ScalarBatch request)
    {
        var job = resolver.RunningById(request.JobId);
        var (batch, refused, problem) = Services.ScalarBatchValidator.Check(request);
        var stored = Store(job, batch);
        if (refused > 0)
        {
            // The good points are stored (at their true steps); the caller still learns that some were not.
            throw new InvalidRequestException(
                $"{refused} of {request.Values.Count} points refused: {problem}; the other {batch.Values.Count} are stored");
        }
        return (batch.Values.Count, stored is null);
    }

    /// <summary>
    /// Stores a checked batch of a running job's points once (null: a duplicate), evaluates its conditions, tells the
    /// observers. Reported scalars come here, and so do those the agent reads from a job's output (OutputScalars/).
    /// </summary>
    public IReadOnlyList<ScalarStore.Series>? Store(JobRecord job, ScalarBatch batch)
    {
        IReadOnlyList<ScalarStore.Series>? stored;
        try
        {
            stored = scalars.Append(job.Number, job.ReportingAttempt, batch, time.GetUtcNow().ToUnixTimeMilliseconds() * 1000);
        }
        catch (ScalarStore.TooManyNamesException e)
        {
            throw new LimitReachedException(e.Message);
        }
        if (stored is not null)
        {
            conditions.Evaluate(job, stored);
            observers.ScalarsReported(job, stored);
        }
        return stored;
    }

    public (string Id, IReadOnlyList<string> Names) AddCondition(AddConditionRequest request) =>
        conditions.Add(resolver.RunningById(request.JobId), request);

    /// <summary>A client-evaluated condition met; false when its cooldown held it back.</summary>
    public bool ConditionMet(ConditionMetRequest request) =>
        conditions.RecordClientFiring(resolver.RunningById(request.JobId), request.ConditionId, request.Values);

    /// <summary>A message from the job to the user's channels.</summary>
    public void Notify(string jobId, string message)
    {
        var job = resolver.RunningById(jobId);
        if (string.IsNullOrWhiteSpace(message))
        {
            throw new InvalidRequestException("notification message is empty");
        }
        if (message.Length > MaxMessageLength)
        {
            throw new InvalidRequestException($"notification message is longer than {MaxMessageLength} characters");
        }
        observers.CustomMessage(job, message);
    }
}
