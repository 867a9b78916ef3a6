using Microsoft.Extensions.Logging;

namespace Meeshkan.Agent.Dashboard;

/// <summary>The dashboard's log lines (event ids 1000-1099, LogEvents.Dashboard). A token, code or cookie is never an argument here.</summary>
internal static partial class DashboardLog
{
    [LoggerMessage(LogEvents.Dashboard, LogLevel.Information, "Dashboard on {Address} (run `meeshkan dashboard` for a login link)")]
    public static partial void Listening(ILogger logger, string address);

    [LoggerMessage(LogEvents.Dashboard + 1, LogLevel.Warning, "Refused dashboard request {Path} from {Address}: {Reason} (failure {Failures} from this address; answering after {DelayMs} ms)")]
    public static partial void Refused(ILogger logger, string path, string address, string reason, int failures, long delayMs);

    [LoggerMessage(LogEvents.Dashboard + 2, LogLevel.Warning, "Dashboard port {Port} is taken; the dashboard listens on a free port instead")]
    public static partial void PortTaken(ILogger logger, int port);

    [LoggerMessage(LogEvents.Dashboard + 3, LogLevel.Error, "Dashboard event pump failed")]
    public static partial void PumpFailed(ILogger logger, Exception exception);
}
