using Meeshkan.Agent.Charts;
using Meeshkan.Agent.Config;
using Meeshkan.Agent.Services;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Meeshkan.Agent.Notifications;

public static class NotificationServiceCollectionExtensions
{
    /// <summary>
    /// The notifier and the chart renderer: an observer that queues, a background sender, the channel settings
    /// (followed in the config file while the agent runs).
    /// </summary>
    public static IServiceCollection AddNotifications(this IServiceCollection services)
    {
        services.AddSingleton<ScalarChartRenderer>();
        services.AddSingleton<IChartRenderer>(sp => sp.GetRequiredService<ScalarChartRenderer>());
        services.AddSingleton<IntervalTracker>();
        services.AddSingleton<NotificationQueue>();
        services.AddSingleton<NotificationComposer>();
        services.AddSingleton(sp => new NotificationSettingsSource(
            sp.GetRequiredService<AgentOptions>().Home.ConfigPath,
            sp.GetRequiredService<AgentConfig>().Notifications,
            sp.GetRequiredService<ILogger<NotificationSettingsSource>>()));
        services.AddSingleton(sp => new JobMessageLimit(sp.GetRequiredService<TimeProvider>(),
            () => sp.GetRequiredService<NotificationSettingsSource>().Current.MessagesPerJobPerMinute));
        services.AddSingleton<NotificationService>();
        services.AddHostedService(sp => sp.GetRequiredService<NotificationService>());
        services.AddSingleton<IAgentObserver, NotificationObserver>();
        return services;
    }
}
