using Meeshkan.Agent.Store;
using Meeshkan.V1;
using Microsoft.Extensions.Logging;

namespace Meeshkan.Agent.Notifications;

/// <summary>The notifier's ear on the agent: each call queues a request (or sets a flag) and returns at once.</summary>
public sealed class NotificationObserver(NotificationQueue queue, IntervalTracker intervals, JobMessageLimit limit, ILogger<NotificationObserver> logger) : IAgentObserver
{
    public void JobStarted(JobRecord job) => Guard(() =>
    {
        intervals.Started(job);
        queue.Enqueue(new NotificationRequest(NotificationEvent.JobStarted, job));
    });

    public void JobEnded(JobRecord job) => Guard(() =>
    {
        intervals.Ended(job);
        if (limit.Flush(job) is { } merged)
        {
            queue.Enqueue(merged);
        }
        var kind = job.State switch
        {
            JobState.Finished => NotificationEvent.JobFinished,
            JobState.Canceled => NotificationEvent.JobCanceled,
            _ => NotificationEvent.JobFailed,
        };
        queue.Enqueue(new NotificationRequest(kind, job));
    });

    public void ScalarsReported(JobRecord job, IReadOnlyList<ScalarStore.Series> series) => Guard(() => intervals.ScalarsArrived(job));

    public void ConditionMet(JobRecord job, ConditionEvent conditionEvent, bool onlyReported) =>
        Guard(() => queue.Enqueue(new NotificationRequest(NotificationEvent.ConditionMet, job, conditionEvent, onlyReported)));

    public void CustomMessage(JobRecord job, string message) => Guard(() =>
    {
        if (limit.Admit(job, message))
        {
            queue.Enqueue(new NotificationRequest(NotificationEvent.Custom, job, Message: message));
        }
    });

    public void AttemptFailed(JobRecord job, string message) =>
        Guard(() => queue.Enqueue(new NotificationRequest(NotificationEvent.AttemptFailed, job, Message: message)));

    private void Guard(Action action)
    {
        try
        {
            action();
        }
        catch (Exception e)
        {
            NotificationLog.ObserverFailed(logger, e);
        }
    }
}
