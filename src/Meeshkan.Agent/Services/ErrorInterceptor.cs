using Grpc.Core;
using Grpc.Core.Interceptors;
using Meeshkan.Agent.Jobs;
using Meeshkan.Agent.Store;
using Microsoft.Data.Sqlite;

namespace Meeshkan.Agent.Services;

/// <summary>
/// The one place failures of a call become gRPC statuses a client can act on:
/// <list type="bullet">
/// <item>the application layer's refusals (<see cref="JobException"/>), with their message as it is: the CLI and the
/// clients print it;</item>
/// <item>database failures: a database locked by another process past the busy timeout is ABORTED ("try again": the
/// clients keep the scalars and retry); anything else from SQLite is INTERNAL with SQLite's own message. Without this a
/// client sees only "Exception was thrown by handler" (UNKNOWN), which the clients take as a refusal and drop the
/// batch.</item>
/// <item>a full disk (<see cref="DiskFull"/>) is ABORTED too, saying so: clients keep what they send and retry.</item>
/// </list>
/// </summary>
public sealed class ErrorInterceptor(Database database) : Interceptor
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

    /// <summary>The status for a failure this interceptor maps, or null for any other exception (left as it is).</summary>
    private RpcException? Translate(Exception e) => e switch
    {
        JobException job => ToRpc(job),
        _ when DiskFull.Is(e) => new RpcException(new Status(StatusCode.Aborted, DiskFull.Message(Path.GetDirectoryName(database.Path)!))),
        SqliteException { SqliteErrorCode: 5 or 6 } => new RpcException(new Status(StatusCode.Aborted, // SQLITE_BUSY, SQLITE_LOCKED
            $"the database {database.Path} is locked by another process; nothing was changed, try again")),
        SqliteException sqlite => new RpcException(new Status(StatusCode.Internal, $"database error in {database.Path}: {sqlite.Message}")),
        _ => null,
    };

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(request, context).ConfigureAwait(false);
        }
        catch (Exception e) when (Translate(e) is { } status)
        {
            throw status;
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
        catch (Exception e) when (Translate(e) is { } status)
        {
            throw status;
        }
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(requestStream, context).ConfigureAwait(false);
        }
        catch (Exception e) when (Translate(e) is { } status)
        {
            throw status;
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
        catch (Exception e) when (Translate(e) is { } status)
        {
            throw status;
        }
    }
}
