using Grpc.Core;
using Grpc.Net.Client;
using Meeshkan.V1;

namespace Meeshkan.Cli;

/// <summary>The CLI's one connection to the agent, and the way every command reports failures.</summary>
internal sealed class AgentConnection : IDisposable
{
    private readonly Lazy<GrpcChannel> _channel;

    public AgentConnection(MeeshkanHome home, RemoteTarget? remote = null)
    {
        Home = home;
        Remote = remote;
        _channel = new Lazy<GrpcChannel>(() => remote?.CreateChannel() ?? AgentChannel.ForSocket(home.SocketPath));
    }

    public MeeshkanHome Home { get; }

    /// <summary>The agent on another machine this command talks to (--remote), or null for the local one.</summary>
    public RemoteTarget? Remote { get; }

    public JobService.JobServiceClient Jobs => new(_channel.Value);

    /// <summary>
    /// The job a command that reads takes for <paramref name="identifier"/>: the latest of that exact name, else the
    /// first a pattern matches (README, "Naming a job"). When it names several, says so on stderr, with the others.
    /// </summary>
    public async Task<Job> FindForReadingAsync(string identifier)
    {
        var found = await FindAllAsync(identifier);
        var latest = found[0];
        if (found.Count > 1)
        {
            var others = string.Join(", ", found.Skip(1).Take(10).Select(j => j.Number.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            var which = latest.Number > found.Skip(1).Max(j => j.Number) ? "the latest" : "the first";
            Console.Error.WriteLine($"meeshkan: {found.Count} jobs match '{identifier}'; showing {which}, job {latest.Number} ({latest.Name}). " +
                $"The others: {others}{(found.Count > 11 ? ", ..." : "")}");
        }
        return latest;
    }

    /// <summary>Every job <paramref name="identifier"/> names, the latest first (an agent of before FindJobs: the one it resolves).</summary>
    public async Task<IReadOnlyList<Job>> FindAllAsync(string identifier)
    {
        try
        {
            return (await Jobs.FindJobsAsync(new FindJobsRequest { Identifier = identifier })).Jobs;
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Unimplemented)
        {
            return [await Jobs.GetJobAsync(new GetJobRequest { Identifier = identifier })];
        }
    }

    /// <summary>True when an agent answers on the socket.</summary>
    public async Task<AgentStatus?> TryStatusAsync(TimeSpan timeout)
    {
        if (Remote is not null)
        {
            return await Jobs.GetStatusAsync(new GetStatusRequest(), deadline: DateTime.UtcNow + timeout);
        }
        if (!File.Exists(Home.SocketPath))
        {
            return null;
        }
        try
        {
            return await Jobs.GetStatusAsync(new GetStatusRequest(), deadline: DateTime.UtcNow + timeout);
        }
        catch (RpcException)
        {
            return null;
        }
    }

    /// <summary>
    /// Runs one command body: agent errors become a one-line message on stderr and a non-zero exit code.
    /// </summary>
    public static async Task<int> RunAsync(Func<AgentConnection, Task<int>> body)
    {
        var home = MeeshkanHome.FromEnvironment();
        RemoteTarget? remote;
        try
        {
            remote = RemoteTarget.Resolve(home);
        }
        catch (UsageException e)
        {
            return Fail(e.Message, ExitCodes.Usage);
        }
        if (remote is null && PermissionProblem(home) is { } denied)
        {
            return Fail(denied, ExitCodes.Error);
        }
        using var connection = new AgentConnection(home, remote);
        try
        {
            return await body(connection);
        }
        catch (RpcException e) when (remote?.Explain(e) is { } explained)
        {
            return Fail(explained, e.StatusCode == StatusCode.Unauthenticated ? ExitCodes.Error : ExitCodes.AgentNotRunning);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Unavailable || (e.StatusCode == StatusCode.Internal && !File.Exists(connection.Home.SocketPath)))
        {
            return Fail($"the agent is not running for {connection.Home.Root}: start it with `meeshkan start`", ExitCodes.AgentNotRunning);
        }
        catch (RpcException e)
        {
            // OutOfRange: asked for more than the agent has (GPUs): a usage mistake, like a bad option.
            return Fail(e.Status.Detail, e.StatusCode switch
            {
                StatusCode.NotFound => ExitCodes.NotFound,
                StatusCode.OutOfRange => ExitCodes.Usage,
                _ => ExitCodes.Error,
            });
        }
        catch (UsageException e)
        {
            return Fail(e.Message, ExitCodes.Usage);
        }
    }

    /// <summary>
    /// Why this user cannot reach the agent of <paramref name="home"/> (the folder is 0700 and the socket 0600, so only
    /// their owner can), or null. Said plainly, so that it is not mistaken for "the agent is not running".
    /// </summary>
    private static string? PermissionProblem(MeeshkanHome home)
    {
        const int ReadExecute = 5, ReadWrite = 6; // R_OK | X_OK, R_OK | W_OK
        var denied = Directory.Exists(home.Root) && Access(home.Root, ReadExecute) != 0 ? home.Root
            : File.Exists(home.SocketPath) && Access(home.SocketPath, ReadWrite) != 0 ? home.SocketPath
            : null;
        return denied is null ? null
            : $"permission denied on {denied}: only the user who owns the data folder can talk to its agent (set MEESHKAN_HOME to a folder of your own)";
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "access", SetLastError = true)]
    private static extern int Access([System.Runtime.InteropServices.MarshalAs(System.Runtime.InteropServices.UnmanagedType.LPUTF8Str)] string path, int mode);

    public static int Fail(string message, int code)
    {
        Console.Error.WriteLine($"meeshkan: {message}");
        return code;
    }

    public void Dispose()
    {
        if (_channel.IsValueCreated)
        {
            _channel.Value.Dispose();
        }
    }
}

/// <summary>A mistake in how a command was called; the message says what to do instead.</summary>
internal sealed class UsageException(string message) : Exception(message);

internal static class ExitCodes
{
    public const int Error = 1;
    public const int Usage = 2;
    public const int AgentNotRunning = 3;
    public const int NotFound = 4;
}
