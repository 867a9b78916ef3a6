using Grpc.Core;
using Grpc.Core.Interceptors;
using Meeshkan.Agent.Jobs;

namespace Meeshkan.Agent.Services;

/// <summary>
/// The one place the application layer's refusals (<see cref="JobException"/>) become gRPC statuses, with their
/// message as it is: the CLI and the clients print it.
/// </summary>
public sealed class DomainErrorInterceptor : Interceptor
{
    public static StatusCode StatusOf(JobException e) => e switch
    {
        InvalidRequestException => StatusCode.InvalidArgument,
        NotFoundException => StatusCode.NotFound,
        NotAllowedException => StatusCode.FailedPrecondition,
        LimitReachedException => StatusCode.ResourceExhausted,
        BeyondMachineException => StatusCode.OutOfRange,
        NotAvailableException => StatusCode.Unimplemented,
        _ => StatusCode.Internal,
    };

    public static RpcException ToRpc(JobException e) => new(new Status(StatusOf(e), e.Message));

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(request, context).ConfigureAwait(false);
        }
        catch (JobException e)
        {
            throw ToRpc(e);
        }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context,
        ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            await continuation(request, responseStream, context).ConfigureAwait(false);
        }
        catch (JobException e)
        {
            throw ToRpc(e);
        }
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(requestStream, context).ConfigureAwait(false);
        }
        catch (JobException e)
        {
            throw ToRpc(e);
        }
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context,
        DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            await continuation(requestStream, responseStream, context).ConfigureAwait(false);
        }
        catch (JobException e)
        {
            throw ToRpc(e);
        }
    }
}
