using Meeshkan.Agent.Store;
using Meeshkan.V1;

namespace Meeshkan.Agent.Notifications;

/// <summary>What an observer call hands to the notifier: just enough to compose the notification later.</summary>
public sealed record NotificationRequest(
    NotificationEvent Event, JobRecord Job, ConditionEvent? Condition = null, bool OnlyReported = false, string? Message = null);
