using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace Meeshkan.Agent.Remote;

/// <summary>
/// The one place that decides who may call through the TCP listener: a request must carry
/// <c>authorization: Bearer TOKEN</c>. It runs as ASP.NET Core middleware, after Kestrel has read the request's headers
/// and before gRPC reads a byte of its body, so an unauthenticated request costs at most the HTTP/2 flow-control
/// window Kestrel buffers (1 MB per connection), whatever the size of the message it announces. A refusal is a gRPC
/// UNAUTHENTICATED answer (trailers only), delayed by <see cref="FailureThrottle"/> like a wrong token; at most
/// <see cref="MaxWaiting"/> refused requests wait at once, any beyond are cut off at once. Requests on the Unix
/// socket (no IP address) pass untouched: the socket's file mode already limits them to the agent's user.
/// A job token (<see cref="JobToken"/>, given to Slurm jobs) passes only for its job's reporting calls
/// (<see cref="JobToken.AllowedMethods"/>), and marks the request with its job (<see cref="JobScope"/>).
/// </summary>
public sealed class RemoteAuthMiddleware(AccessToken token, JobToken jobTokens, FailureThrottle throttle, ILogger<RemoteAuthMiddleware> logger)
    : IMiddleware
{
    /// <summary>Refused requests held back by the throttle at once; more are reset without an answer.</summary>
    public const int MaxWaiting = 64;

    /// <summary>Body bytes an unauthenticated request may ever have read (none are).</summary>
    private const long UnauthenticatedBodyLimit = 0;

    public const string Message =
        "this agent needs its access token: run `meeshkan remote token` on its machine, then `meeshkan remote add` here";

    private const string Scheme = "Bearer ";
    private int _waiting;

    /// <summary>True for a request that came through the TCP listener (it has an IP address).</summary>
    public static bool IsRemote(HttpContext context) =>
        context.Connection.LocalIpAddress is not null || context.Connection.RemoteIpAddress is not null;

    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        if (!IsRemote(context))
        {
            await next(context).ConfigureAwait(false);
            return;
        }
        var address = context.Connection.RemoteIpAddress ?? IPAddress.None;
        if (Refusal(context, context.Request.Headers.Authorization.ToString()) is not { } reason)
        {
            throttle.Succeed(address);
            await next(context).ConfigureAwait(false);
            return;
        }
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = UnauthenticatedBodyLimit;
        }
        var (failures, delay) = throttle.Fail(address);
        RemoteLog.Refused(logger, context.Request.Path.Value ?? "", address.ToString(), reason, failures, (long)delay.TotalMilliseconds);
        if (delay > TimeSpan.Zero)
        {
            if (Interlocked.Increment(ref _waiting) > MaxWaiting)
            {
                Interlocked.Decrement(ref _waiting);
                context.Abort();
                return;
            }
            try
            {
                await Task.Delay(delay, context.RequestAborted).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            finally
            {
                Interlocked.Decrement(ref _waiting);
            }
        }
        // A trailers-only gRPC answer: Kestrel ends the stream and resets the unread request body.
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/grpc";
        context.Response.Headers["grpc-status"] = "16";
        context.Response.Headers["grpc-message"] = Message;
    }

    /// <summary>Why a request with this authorization header is refused, or null when it may pass.</summary>
    private string? Refusal(HttpContext context, string header)
    {
        if (header.Length == 0)
        {
            return "no token";
        }
        if (!header.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
        {
            return "not a bearer token";
        }
        var presented = header[Scheme.Length..].Trim();
        if (!JobToken.IsJobToken(presented))
        {
            return token.Verify(presented) ? null : "wrong token";
        }
        if (jobTokens.Verify(presented) is not { } jobId)
        {
            return "wrong job token";
        }
        if (!JobToken.AllowedMethods.Contains(context.Request.Path.Value ?? ""))
        {
            return "a job token used for a call other than its job's reports";
        }
        JobScope.Set(context, jobId);
        return null;
    }
}
