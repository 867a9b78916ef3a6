using Meeshkan.Agent.Executors;
using Meeshkan.Agent.Executors.Local;
using Meeshkan.Agent.Scheduler;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Meeshkan.Agent.Jobs;

public static class JobsServiceCollectionExtensions
{
    /// <summary>
    /// The application layer, the run loop and the executors. A further executor registers itself as another
    /// <see cref="IJobExecutor"/> singleton; the run loop finds it by <see cref="IJobExecutor.Name"/>.
    /// </summary>
    public static IServiceCollection AddJobs(this IServiceCollection services)
    {
        services.AddSingleton(sp => new JobObservers(sp.GetServices<IAgentObserver>(),
            sp.GetRequiredService<ILoggerFactory>().CreateLogger("Meeshkan.Agent.Jobs.JobObservers")));
        services.AddSingleton<JobEnds>();
        services.AddSingleton<IAgentObserver>(sp => sp.GetRequiredService<JobEnds>());
        services.AddSingleton<IAgentObserver, ConditionStops>();
        services.AddSingleton<JobResolver>();
        services.AddSingleton<JobQueries>();
        services.AddSingleton<JobReports>();
        services.AddSingleton<JobLifecycle>();
        services.AddSingleton<RunLoopInbox>();
        services.AddSingleton<IExecutorEvents>(sp => sp.GetRequiredService<RunLoopInbox>());
        services.AddSingleton<QueueState>();
        services.AddSingleton<QueueControl>();
        services.AddSingleton<Gpus.GpuWatcher>();
        services.AddHostedService(sp => sp.GetRequiredService<Gpus.GpuWatcher>());
        services.AddSingleton<LocalExecutor>();
        services.AddSingleton<IJobExecutor>(sp => sp.GetRequiredService<LocalExecutor>());
        services.AddSingleton(sp => new Executors.Slurm.SlurmExecutor(sp.GetRequiredService<AgentOptions>(), sp.GetRequiredService<Config.AgentConfig>(),
            sp.GetRequiredService<LocalExecutor>(), sp.GetRequiredService<RunLoopInbox>(),
            sp.GetRequiredService<ILogger<Executors.Slurm.SlurmExecutor>>(), sp.GetService<Remote.JobToken>()));
        services.AddSingleton<IJobExecutor>(sp => sp.GetRequiredService<Executors.Slurm.SlurmExecutor>());
        services.AddHostedService(sp => sp.GetRequiredService<Executors.Slurm.SlurmExecutor>());
        services.AddSingleton<JobScheduler>();
        services.AddHostedService(sp => sp.GetRequiredService<JobScheduler>());
        return services;
    }
}
