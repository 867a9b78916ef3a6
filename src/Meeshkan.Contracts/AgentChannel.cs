using System.Net.Sockets;
using Grpc.Net.Client;

namespace Meeshkan;

/// <summary>Creates gRPC channels to an agent's Unix domain socket.</summary>
public static class AgentChannel
{
    /// <summary>
    /// A channel to the agent listening on <paramref name="socketPath"/>. Reuse it: it holds one HTTP/2 connection.
    /// </summary>
    public static GrpcChannel ForSocket(string socketPath, int maxMessageBytes = 64 * 1024 * 1024)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken).ConfigureAwait(false);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
            EnableMultipleHttp2Connections = false,
        };
        return GrpcChannel.ForAddress("http://localhost", new GrpcChannelOptions
        {
            HttpHandler = handler,
            MaxReceiveMessageSize = maxMessageBytes,
            MaxSendMessageSize = maxMessageBytes,
        });
    }
}
