using Meeshkan.Agent.Internal;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Meeshkan.Agent.Hosting;

/// <summary>
/// Makes the agent's socket again when someone deletes it (a `rm -rf` of the wrong folder, a tmp cleaner): once the
/// agent listens, a second name of the socket (a hard link, in the private data folder) is kept; the socket's name is
/// looked at every second and linked again from it when gone. The listening socket never changed, so clients connect
/// at once. A stat a second, and no inotify watch (the agent watches no folder).
/// </summary>
public sealed partial class SocketKeeper(AgentOptions options, IHostApplicationLifetime lifetime, ILogger<SocketKeeper> logger) : BackgroundService
{
    private static readonly TimeSpan Every = TimeSpan.FromSeconds(1);

    private string Socket => options.Home.SocketPath;

    private string Kept => Path.Combine(options.Home.Root, ".agent.sock.kept");

    protected override async Task ExecuteAsync(CancellationToken stopping)
    {
        var started = new TaskCompletionSource();
        using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
        {
            await started.Task.WaitAsync(stopping).ConfigureAwait(false);
        }
        File.Delete(Kept);
        if (!Native.Link(Socket, Kept))
        {
            Log.CannotKeep(logger, Socket, Native.LastError());
            return;
        }
        using var timer = new PeriodicTimer(Every);
        try
        {
            while (await timer.WaitForNextTickAsync(stopping).ConfigureAwait(false))
            {
                if (!File.Exists(Socket) && Native.Link(Kept, Socket))
                {
                    Log.Remade(logger, Socket);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        File.Delete(Kept);
    }

    private static partial class Log
    {
        [LoggerMessage(LogEvents.Hosting + 1, LogLevel.Warning, "The agent's socket {Socket} was deleted; it is there again")]
        public static partial void Remade(ILogger logger, string socket);

        [LoggerMessage(LogEvents.Hosting + 2, LogLevel.Warning, "Cannot keep a second name of the socket {Socket} ({Error}); if it is deleted, restart the agent")]
        public static partial void CannotKeep(ILogger logger, string socket, string error);
    }
}
