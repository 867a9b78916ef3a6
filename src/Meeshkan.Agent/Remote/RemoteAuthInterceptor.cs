using System.Net;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Meeshkan.V1;
using Microsoft.Extensions.Logging;

namespace Meeshkan.Agent.Remote;

/// <summary>
/// Lets a call through the TCP listener only with <c>authorization: Bearer TOKEN</c>. Calls on the Unix socket have
/// no IP address and pass untouched: the socket's file mode already limits them to the agent's user.
/// </summary>
public sealed class RemoteAuthInterceptor(AccessToken token, FailureThrottle throttle, ILogger<RemoteAuthInterceptor> logger) : Interceptor
{
    private const string Scheme = "Bearer ";

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        if (await AuthorizeAsync(context).ConfigureAwait(false))
        {
            ApplyRemoteDefaults(request);
        }
        return await continuation(request, context).ConfigureAwait(false);
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        await AuthorizeAsync(context).ConfigureAwait(false);
        await continuation(request, responseStream, context).ConfigureAwait(false);
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        await AuthorizeAsync(context).ConfigureAwait(false);
        return await continuation(requestStream, context).ConfigureAwait(false);
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context,
        DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        await AuthorizeAsync(context).ConfigureAwait(false);
        await continuation(requestStream, responseStream, context).ConfigureAwait(false);
    }

    /// <returns>True for a remote call that carried the token; false for a local one. Throws UNAUTHENTICATED otherwise.</returns>
    private async Task<bool> AuthorizeAsync(ServerCallContext context)
    {
        var connection = context.GetHttpContext().Connection;
        if (connection.LocalIpAddress is null && connection.RemoteIpAddress is null)
        {
            return false;
        }
        var address = connection.RemoteIpAddress ?? IPAddress.None;
        var header = context.RequestHeaders.GetValue("authorization");
        string? reason = null;
        if (header is null)
        {
            reason = "no token";
        }
        else if (!header.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
        {
            reason = "not a bearer token";
        }
        else if (!token.Verify(header[Scheme.Length..].Trim()))
        {
            reason = "wrong token";
        }
        if (reason is null)
        {
            throttle.Succeed(address);
            return true;
        }
        var (failures, delay) = throttle.Fail(address);
        RemoteLog.Refused(logger, context.Method, address.ToString(), reason, failures, (long)delay.TotalMilliseconds);
        if (delay > TimeSpan.Zero)
        {
            await Task.Delay(delay, context.CancellationToken).ConfigureAwait(false);
        }
        throw new RpcException(new Status(StatusCode.Unauthenticated,
            "this agent needs its access token: run `meeshkan remote token` on its machine, then `meeshkan remote add` here"));
    }

    /// <summary>
    /// A remote submit carries no environment (the agent's own is used) and, unless --cwd was given, no working
    /// directory: the job then runs in the home folder of the agent's user, not wherever the agent was started.
    /// </summary>
    private static void ApplyRemoteDefaults<TRequest>(TRequest request)
    {
        switch (request)
        {
            case SubmitJobRequest submit:
                Default(submit);
                break;
            case SubmitJobsRequest many:
                foreach (var submit in many.Jobs)
                {
                    Default(submit);
                }
                break;
        }

        static void Default(SubmitJobRequest submit)
        {
            if (string.IsNullOrEmpty(submit.WorkingDirectory))
            {
                submit.WorkingDirectory = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            }
        }
    }
}
