using Microsoft.Extensions.DependencyInjection;

namespace Meeshkan.Agent.Telegram;

public static class TelegramServiceCollectionExtensions
{
    /// <summary>The Telegram command bot (it stays idle until <c>notifications.telegram</c> is set up). Needs AddNotifications.</summary>
    public static IServiceCollection AddTelegramBot(this IServiceCollection services)
    {
        services.AddSingleton<TelegramCommands>();
        services.AddSingleton<TelegramBot>();
        services.AddHostedService(sp => sp.GetRequiredService<TelegramBot>());
        return services;
    }
}
