using Cocona;
using Grpc.Core;
using Meeshkan.V1;

namespace Meeshkan.Cli.Commands;

/// <summary>pause and resume: draining the queue without killing anything.</summary>
internal sealed class QueueCommands
{
    [Command("pause", Description = "No new job starts; running jobs go on (kept across agent restarts). `meeshkan resume` undoes it.")]
    public Task<int> Pause() => SetPaused(true);

    [Command("resume", Description = "Starts queued jobs again after `meeshkan pause`.")]
    public Task<int> Resume() => SetPaused(false);

    private static Task<int> SetPaused(bool paused) => AgentConnection.RunAsync(async connection =>
    {
        var status = await connection.Jobs.SetQueuePausedAsync(new SetQueuePausedRequest { Paused = paused });
        Console.WriteLine(paused
            ? $"Queue paused: no new job starts; {status.Running} running job(s) go on, {status.Queued} wait. `meeshkan resume` starts them again."
            : $"Queue resumed: {status.Queued} queued job(s) start as slots and GPUs free up.");
        return 0;
    });

    /// <summary>After `setup` changed the queue settings: a running local agent applies them now.</summary>
    public static async Task ReloadRunningAgentAsync(MeeshkanHome home)
    {
        using var connection = new AgentConnection(home);
        if (!File.Exists(home.SocketPath))
        {
            Console.WriteLine("The agent is not running: `meeshkan start` applies the queue settings.");
            return;
        }
        try
        {
            var status = await connection.Jobs.ReloadSettingsAsync(new ReloadSettingsRequest(), deadline: DateTime.UtcNow.AddSeconds(10));
            Console.WriteLine($"The running agent applied them: {status.Slots} slot(s), {status.Gpus.Count} GPU(s) to hand out.");
        }
        catch (RpcException)
        {
            Console.WriteLine("The agent is not running: `meeshkan start` applies the queue settings.");
        }
    }
}
