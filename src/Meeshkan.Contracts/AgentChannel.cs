using System.Net.Security;
using System.Net.Sockets;
using Grpc.Core;
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

    /// <summary>
    /// A channel to an agent listening on TCP with TLS (<c>meeshkan start --listen</c>). The agent's certificate is
    /// self-signed, so it is trusted only when its SHA-256 fingerprint is <paramref name="fingerprint"/> (names and
    /// issuers are not checked: the pin is the identity). Every call carries <c>authorization: Bearer TOKEN</c>;
    /// a null token sends none.
    /// </summary>
    /// <param name="address">The listener, <c>https://HOST:PORT</c>.</param>
    /// <param name="token">The agent's access token.</param>
    /// <param name="fingerprint">The SHA-256 hash of the agent's certificate (see <see cref="CertificateFingerprint.Parse"/>).</param>
    /// <param name="onMismatch">Told the fingerprint the server presented when it is not the pinned one.</param>
    /// <param name="maxMessageBytes">Largest message sent or received.</param>
    public static GrpcChannel ForRemote(Uri address, string? token, byte[] fingerprint, Action<string>? onMismatch = null,
        int maxMessageBytes = 64 * 1024 * 1024)
    {
        if (address.Scheme != Uri.UriSchemeHttps)
        {
            throw new ArgumentException("a remote agent is reached over https only", nameof(address));
        }
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = TimeSpan.FromSeconds(10),
            EnableMultipleHttp2Connections = false,
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                {
                    if (CertificateFingerprint.Matches(certificate, fingerprint))
                    {
                        return true;
                    }
                    onMismatch?.Invoke(certificate is null ? "(none)" : CertificateFingerprint.Of(certificate));
                    return false;
                },
            },
        };
        var options = new GrpcChannelOptions
        {
            HttpHandler = handler,
            MaxReceiveMessageSize = maxMessageBytes,
            MaxSendMessageSize = maxMessageBytes,
        };
        if (token is not null)
        {
            var bearer = "Bearer " + token;
            options.Credentials = ChannelCredentials.Create(ChannelCredentials.SecureSsl, CallCredentials.FromInterceptor((_, metadata) =>
            {
                metadata.Add("authorization", bearer);
                return Task.CompletedTask;
            }));
        }
        return GrpcChannel.ForAddress(address, options);
    }
}
