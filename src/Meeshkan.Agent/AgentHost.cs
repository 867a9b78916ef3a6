using Meeshkan.Agent.Conditions;
using Meeshkan.Agent.Config;
using Meeshkan.Agent.Executors;
using Meeshkan.Agent.Executors.Local;
using Meeshkan.Agent.Hosting;
using Meeshkan.Agent.Jobs;
using Meeshkan.Agent.Logs;
using Meeshkan.Agent.Notifications;
using Meeshkan.Agent.Remote;
using Meeshkan.Agent.Scheduler;
using Meeshkan.Agent.Services;
using Meeshkan.Agent.Store;
using Meeshkan.Agent.Telegram;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Meeshkan.Agent;

/// <summary>Runs an agent in this process until it is told to stop.</summary>
public static class AgentHost
{
    /// <summary>The exit code of an agent that found another one running for its data folder.</summary>
    public const int AlreadyRunningExitCode = 3;

    /// <returns>The process exit code.</returns>
    public static async Task<int> RunAsync(AgentOptions options, CancellationToken cancel = default)
    {
        var home = options.Home;
        InheritedDescriptors.Close();
        SingleInstance? instance = null;
        AgentConfig config;
        Database database;
        string? listen;
        Dashboard.DashboardListener? dashboard;
        System.Security.Cryptography.X509Certificates.X509Certificate2? certificate = null;
        try
        {
            DataFolder.Prepare(home);
            instance = SingleInstance.Acquire(home);
            config = AgentConfig.Load(home.ConfigPath);
            listen = string.IsNullOrWhiteSpace(options.Listen) ? config.Listen : options.Listen;
            if (!string.IsNullOrWhiteSpace(listen))
            {
                RemoteListener.Parse(listen);
                certificate = RemoteCredentials.LoadOrCreateCertificate(home);
            }
            dashboard = Dashboard.DashboardListener.From(config.Dashboard);
            database = new Database(home.DatabasePath);
            database.Migrate();
        }
        catch (Exception e) when (e is AlreadyRunningException or IOException or UnauthorizedAccessException
            or InvalidDataException or ArgumentException or System.Security.Cryptography.CryptographicException
            or Microsoft.Data.Sqlite.SqliteException)
        {
            // Drops the lock and the pid file: no agent runs for this folder.
            instance?.Dispose();
            await Console.Error.WriteLineAsync($"FATAL: {e.Message}").ConfigureAwait(false);
            return e is AlreadyRunningException ? AlreadyRunningExitCode : 1;
        }

        using (instance)
        {
            string? remoteEndpoint = null;
            var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
            {
                // The agent reads no appsettings.json; left on, reloading it watched the agent's working folder and
                // every folder below it (each new job folder too) with inotify.
                Args = ["--hostBuilder:reloadConfigOnChange=false"],
                ContentRootPath = home.Root,
            });
            builder.Logging.ClearProviders();
            builder.Logging.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "yyyy-MM-dd HH:mm:ss.fff'Z' "; // UTC, and it says so
                o.UseUtcTimestamp = true;
            });
            builder.Logging.SetMinimumLevel(LogLevel.Information);
            builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
            builder.Logging.AddFilter("Grpc", LogLevel.Warning);
            int? dashboardPortTaken = null;
            builder.WebHost.UseSockets(o => o.CreateBoundListenSocket = endpoint =>
            {
                if (dashboard?.TryBind(endpoint, port => dashboardPortTaken = port) is { } dashboardSocket)
                {
                    return dashboardSocket;
                }
                var socket = SocketTransportOptions.CreateDefaultBoundListenSocket(endpoint);
                if (endpoint is System.Net.Sockets.UnixDomainSocketEndPoint)
                {
                    File.SetUnixFileMode(home.SocketPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
                }
                return socket;
            });
            builder.WebHost.ConfigureKestrel(k =>
            {
                k.Limits.Http2.MaxStreamsPerConnection = 1000;
                // Kestrel binds listeners in this order and accepts on each as soon as it is bound: the Unix socket
                // goes last, so that when `meeshkan start` sees the agent answer there, the TLS listener is up too.
                if (certificate is not null)
                {
                    remoteEndpoint = RemoteListener.Configure(k, listen!, certificate);
                }
                dashboard?.Configure(k);
                k.ListenUnixSocket(home.SocketPath, l => l.Protocols = HttpProtocols.Http2);
            });
            builder.Services.AddGrpc(o =>
            {
                o.MaxReceiveMessageSize = 64 * 1024 * 1024;
                o.MaxSendMessageSize = 64 * 1024 * 1024;
                o.EnableDetailedErrors = false;
                o.Interceptors.Add<ErrorInterceptor>();
                if (certificate is not null)
                {
                    o.Interceptors.Add<RemoteDefaultsInterceptor>();
                }
            });
            if (certificate is not null)
            {
                builder.Services.AddRemoteAccess(home);
            }
            var services = builder.Services;
            services.AddSingleton(options);
            services.AddSingleton(config);
            services.AddSingleton(database);
            services.AddSingleton(TimeProvider.System);
            services.AddSingleton<AgentClock>();
            services.AddSingleton<JobStore>();
            services.AddSingleton<ScalarStore>();
            services.AddSingleton<ScalarBuckets>();
            services.AddSingleton<ChangeStamp>();
            services.AddSingleton<NotificationStore>();
            services.AddSingleton<LogStreamer>();
            services.AddSingleton<PythonCheck>();
            services.AddSingleton<ConditionStore>();
            services.AddSingleton<ConditionEngine>();
            services.AddSingleton<Scalars.UnsentScalars>();
            services.AddHostedService<Hosting.SocketKeeper>();
            services.AddHostedService<Hosting.MemoryTrimmer>();
            services.AddSingleton<OutputScalars.OutputScalarReader>();
            services.AddJobs();
            if (dashboard is not null)
            {
                Dashboard.DashboardListener.AddDashboard(services, home);
            }
            services.AddNotifications();
            services.AddTelegramBot();

            var app = builder.Build();
            if (certificate is not null)
            {
                // The dashboard's pages and API check their own session cookie (Dashboard/DashboardAuth.cs): a browser
                // carries no bearer token.
                app.UseWhen(context => dashboard is null || !Dashboard.DashboardEndpoints.IsDashboardPath(context.Request.Path),
                    remote => remote.UseRemoteAccess());
            }
            app.MapGrpcService<JobServiceImpl>();
            app.MapGrpcService<ReportServiceImpl>();
            if (dashboard is not null)
            {
                Dashboard.DashboardEndpoints.MapDashboard(app);
            }
            app.Services.GetRequiredService<AgentClock>();
            try
            {
                await app.StartAsync(cancel).ConfigureAwait(false);
                if (certificate is not null)
                {
                    RemoteLog.Listening(app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Meeshkan.Agent.Remote"),
                        remoteEndpoint ?? listen!, CertificateFingerprint.Of(certificate));
                }
                if (dashboard is not null)
                {
                    Dashboard.DashboardListener.Started(app.Services, home, dashboardPortTaken);
                }
                await app.WaitForShutdownAsync(cancel).ConfigureAwait(false);
                database.Dispose();
            }
            catch (IOException e)
            {
                var where = certificate is null ? home.SocketPath : $"{home.SocketPath} and {listen}";
                await Console.Error.WriteLineAsync($"FATAL: cannot listen on {where}: {e.Message}").ConfigureAwait(false);
                return 1;
            }
            return 0;
        }
    }
}
