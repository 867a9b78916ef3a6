using System.Net.Sockets;

namespace Meeshkan.Agent.Hosting;

/// <summary>
/// One agent per data folder: an exclusive lock on <c>agent.lock</c> held for the agent's life (the kernel drops it
/// when the process dies, even by kill -9), so a stale socket or PID file can then be removed safely.
/// </summary>
public sealed class SingleInstance : IDisposable
{
    private readonly FileStream _lock;
    private readonly MeeshkanHome _home;

    private SingleInstance(FileStream lockFile, MeeshkanHome home)
    {
        _lock = lockFile;
        _home = home;
    }

    /// <summary>Takes the lock or throws <see cref="AlreadyRunningException"/>.</summary>
    public static SingleInstance Acquire(MeeshkanHome home)
    {
        var path = Path.Combine(home.Root, "agent.lock");
        FileStream lockFile;
        try
        {
            // FileShare.None is an exclusive flock() on Unix.
            lockFile = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            throw new AlreadyRunningException($"an agent is already running for {home.Root}");
        }
        var instance = new SingleInstance(lockFile, home);
        instance.RemoveStaleFiles();
        File.WriteAllText(home.PidFile, Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return instance;
    }

    private void RemoveStaleFiles()
    {
        if (!File.Exists(_home.SocketPath))
        {
            return;
        }
        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(_home.SocketPath));
            throw new AlreadyRunningException($"another process is listening on {_home.SocketPath}");
        }
        catch (SocketException)
        {
            // Nobody listens: left by an agent that died.
            File.Delete(_home.SocketPath);
        }
    }

    public void Dispose()
    {
        try
        {
            File.Delete(_home.PidFile);
        }
        catch (IOException)
        {
        }
        _lock.Dispose();
    }
}

public sealed class AlreadyRunningException(string message) : Exception(message);
