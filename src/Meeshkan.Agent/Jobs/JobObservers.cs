using Meeshkan.Agent.Store;
using Meeshkan.V1;
using Microsoft.Extensions.Logging;

namespace Meeshkan.Agent.Jobs;

/// <summary>
/// The one place observers (notifications, the Telegram bot, later the dashboard) are told what happened. Each call
/// is guarded: a failing observer is logged and the others are still told; the caller never sees it.
/// </summary>
public sealed partial class JobObservers(IEnumerable<IAgentObserver> observers, ILogger logger)
{
    private readonly IAgentObserver[] _observers = observers.ToArray();

    public void JobStarted(JobRecord job) => Tell(o => o.JobStarted(job));

    public void JobEnded(JobRecord job) => Tell(o => o.JobEnded(job));

    public void ScalarsReported(JobRecord job, IReadOnlyList<ScalarStore.Series> series) => Tell(o => o.ScalarsReported(job, series));

    public void ConditionMet(JobRecord job, ConditionEvent conditionEvent, bool onlyReported) =>
        Tell(o => o.ConditionMet(job, conditionEvent, onlyReported));

    public void CustomMessage(JobRecord job, string message) => Tell(o => o.CustomMessage(job, message));

    public void AttemptFailed(JobRecord job, string message) => Tell(o => o.AttemptFailed(job, message));

    private void Tell(Action<IAgentObserver> call)
    {
        foreach (var observer in _observers)
        {
            try
            {
                call(observer);
            }
            catch (Exception e)
            {
                Log.ObserverFailed(logger, observer.GetType().Name, e);
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(5, LogLevel.Error, "Job observer {Observer} failed")]
        public static partial void ObserverFailed(ILogger logger, string observer, Exception exception);
    }
}
