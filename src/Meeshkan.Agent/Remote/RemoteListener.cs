using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;

namespace Meeshkan.Agent.Remote;

/// <summary>The TCP listener for remote CLIs: where it listens, and how Kestrel and the services are set up for it.</summary>
public static class RemoteListener
{
    /// <summary>
    /// Reads <c>PORT</c>, <c>*:PORT</c>, <c>ADDRESS:PORT</c>, <c>[IPv6]:PORT</c> or <c>localhost:PORT</c>.
    /// Null means every address (IPv4 and IPv6); loopback means localhost only.
    /// </summary>
    public static (IPAddress? Address, bool Localhost, int Port) Parse(string listen)
    {
        listen = listen.Trim();
        var colon = listen.LastIndexOf(':');
        var host = colon < 0 ? "*" : listen[..colon];
        var portText = colon < 0 ? listen : listen[(colon + 1)..];
        if (!int.TryParse(portText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port)
            || port is <= 0 or > 65535)
        {
            throw new ArgumentException($"listen address '{listen}' needs a port from 1 to 65535 (for example 0.0.0.0:7600)");
        }
        if (host is "" or "*")
        {
            return (null, false, port);
        }
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase))
        {
            return (null, true, port);
        }
        if (IPAddress.TryParse(host.Trim('[', ']'), out var address))
        {
            return (address, false, port);
        }
        throw new ArgumentException($"listen address '{listen}' must be an IP address (or localhost) and a port, for example 0.0.0.0:7600");
    }

    /// <summary>Adds the TLS listener to Kestrel (HTTP/2 only, never plaintext) and the token check to gRPC.</summary>
    public static string Configure(KestrelServerOptions kestrel, string listen, System.Security.Cryptography.X509Certificates.X509Certificate2 certificate)
    {
        var (address, localhost, port) = Parse(listen);
        Action<Microsoft.AspNetCore.Server.Kestrel.Core.ListenOptions> tls = l =>
        {
            l.Protocols = HttpProtocols.Http2;
            l.UseHttps(certificate, https => https.HandshakeTimeout = TimeSpan.FromSeconds(10));
        };
        if (localhost)
        {
            kestrel.ListenLocalhost(port, tls);
            return $"localhost:{port}";
        }
        if (address is null)
        {
            kestrel.ListenAnyIP(port, tls);
            return $"*:{port}";
        }
        kestrel.Listen(address, port, tls);
        return new IPEndPoint(address, port).ToString();
    }

    /// <summary>The services the token check needs.</summary>
    public static IServiceCollection AddRemoteAccess(this IServiceCollection services, MeeshkanHome home)
    {
        services.AddSingleton(new AccessToken(home));
        services.AddSingleton(new JobToken(home));
        services.AddSingleton<FailureThrottle>();
        services.AddSingleton<RemoteAuthMiddleware>();
        services.AddSingleton<RemoteDefaultsInterceptor>();
        return services;
    }

    /// <summary>Puts the token check in front of every request, before gRPC reads its body.</summary>
    public static IApplicationBuilder UseRemoteAccess(this IApplicationBuilder app) => app.UseMiddleware<RemoteAuthMiddleware>();
}
