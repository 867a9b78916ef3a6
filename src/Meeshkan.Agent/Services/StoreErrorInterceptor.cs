using Grpc.Core;
using Grpc.Core.Interceptors;
using Meeshkan.Agent.Store;
using Microsoft.Data.Sqlite;

namespace Meeshkan.Agent.Services;

/// <summary>
/// Turns database failures in any call into a status a client can act on. A database locked by another process past
/// the busy timeout is ABORTED ("try again": the clients keep the scalars and retry); anything else from SQLite is
/// INTERNAL with SQLite's own message. Without this a client sees only "Exception was thrown by handler" (UNKNOWN),
/// which the clients take as a refusal and drop the batch.
/// </summary>
public sealed class StoreErrorInterceptor(Database database) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(request, context).ConfigureAwait(false);
        }
        catch (SqliteException e)
        {
            throw Translate(e);
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
        catch (SqliteException e)
        {
            throw Translate(e);
        }
    }

    private RpcException Translate(SqliteException e) => e.SqliteErrorCode is 5 or 6 // SQLITE_BUSY, SQLITE_LOCKED
        ? new RpcException(new Status(StatusCode.Aborted,
            $"the database {database.Path} is locked by another process; nothing was changed, try again"))
        : new RpcException(new Status(StatusCode.Internal, $"database error in {database.Path}: {e.Message}"));
}
