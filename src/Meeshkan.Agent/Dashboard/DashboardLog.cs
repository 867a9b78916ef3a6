using Microsoft.Extensions.Logging;

namespace Meeshkan.Agent.Dashboard;

/// <summary>The dashboard's log lines (event ids 900-999). A token, code or cookie is never an argument here.</summary>
internal static partial class DashboardLog
{
    [LoggerMessage(900, LogLevel.Information, "Dashboard on {Address} (run `meeshkan dashboard` for a login link)")]
    public static partial void Listening(ILogger logger, string address);

    [LoggerMessage(901, LogLevel.Warning, "Refused dashboard request {Path} from {Address}: {Reason} (failure {Failures} from this address; answering after {DelayMs} ms)")]
    public static partial void Refused(ILogger logger, string path, string address, string reason, int failures, long delayMs);

    [LoggerMessage(902, LogLevel.Warning, "Dashboard port {Port} is taken; the dashboard listens on a free port instead")]
    public static partial void PortTaken(ILogger logger, int port);

    [LoggerMessage(903, LogLevel.Error, "Dashboard event pump failed")]
    public static partial void PumpFailed(ILogger logger, Exception exception);
}
