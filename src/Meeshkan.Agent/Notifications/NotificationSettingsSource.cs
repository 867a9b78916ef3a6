using Meeshkan.Agent.Config;
using Microsoft.Extensions.Logging;

namespace Meeshkan.Agent.Notifications;

/// <summary>
/// The channel settings in force. The config file is checked (one stat) before each notification and re-read when it
/// changed, so `meeshkan setup` applies to a running agent without a restart.
/// </summary>
public sealed class NotificationSettingsSource
{
    private readonly string? _path;
    private readonly ILogger _logger;
    private DateTime _stamp;
    private NotificationSettings _current;

    /// <param name="path">The config file to follow; null keeps <paramref name="initial"/> for good.</param>
    public NotificationSettingsSource(string? path, NotificationSettings initial, ILogger logger)
    {
        _path = path;
        _logger = logger;
        _current = initial;
        _stamp = Stamp();
    }

    public NotificationSettings Current
    {
        get
        {
            if (_path is null)
            {
                return _current;
            }
            var stamp = Stamp();
            if (stamp != _stamp)
            {
                try
                {
                    _current = AgentConfig.Load(_path).Notifications;
                    _stamp = stamp;
                }
                catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
                {
                    // A half-edited file: keep what worked. The message names the file, not its secrets.
                    NotificationLog.ReloadFailed(_logger, e.GetType().Name);
                    _stamp = stamp;
                }
            }
            return _current;
        }
    }

    private DateTime Stamp() => _path is not null && File.Exists(_path) ? File.GetLastWriteTimeUtc(_path) : DateTime.MinValue;
}
