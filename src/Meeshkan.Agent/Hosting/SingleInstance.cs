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

    /// <summary>
    /// The pid of the agent that holds the lock of <paramref name="home"/>, for when its socket does not answer (someone
    /// deleted it): the lock is held and the pid file names a live process. Null when no agent holds the lock.
    /// </summary>
    public static int? LockHolder(MeeshkanHome home)
    {
        var path = Path.Combine(home.Root, "agent.lock");
        if (!File.Exists(path))
        {
            return null;
        }
        try
        {
            using var probe = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
            return null; // the lock was free: no agent
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
        try
        {
            return int.TryParse(File.ReadAllText(home.PidFile).Trim(), out var pid) && pid > 1 && Internal.Native.ProcessAlive(pid) ? pid : null;
        }
        catch (IOException)
        {
            return null;
        }
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
