using Microsoft.Extensions.Logging;

namespace Meeshkan.Agent.Remote;

/// <summary>The remote listener's log lines. A token is never an argument here.</summary>
internal static partial class RemoteLog
{
    [LoggerMessage(300, LogLevel.Information, "Listening for remote CLIs on {Endpoint} (TLS, certificate SHA-256 {Fingerprint})")]
    public static partial void Listening(ILogger logger, string endpoint, string fingerprint);

    [LoggerMessage(301, LogLevel.Warning, "Refused remote call {Method} from {Address}: {Reason} (failure {Failures} from this address; answering after {DelayMs} ms)")]
    public static partial void Refused(ILogger logger, string method, string address, string reason, int failures, long delayMs);
}
