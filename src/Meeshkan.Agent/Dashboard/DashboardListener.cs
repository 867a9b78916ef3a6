using System.Net;
using System.Net.Sockets;
using Meeshkan.Agent.Remote;
using Meeshkan.Agent.Store;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Meeshkan.Agent.Dashboard;

/// <summary>
/// Where the dashboard listens: plain HTTP on <see cref="DefaultAddress"/> unless <c>setup --dashboard ADDR:PORT</c>
/// says otherwise (<c>off</c> with <c>--no-dashboard</c>), and on the TLS listener when there is one. When the default
/// port is taken (another user's agent), a free one is used; the address in force is written to the data folder for
/// `meeshkan dashboard`.
/// </summary>
public sealed class DashboardListener
{
    public const string DefaultAddress = "127.0.0.1:7601";
    public const string Off = "off";

    private readonly IPEndPoint _endpoint;
    private readonly bool _isDefault;

    private DashboardListener(IPEndPoint endpoint, bool isDefault) => (_endpoint, _isDefault) = (endpoint, isDefault);

    /// <summary>Null when the dashboard is off. Throws ArgumentException for an address that cannot be read.</summary>
    public static DashboardListener? From(string? setting)
    {
        if (string.Equals(setting?.Trim(), Off, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        var isDefault = string.IsNullOrWhiteSpace(setting);
        var (address, localhost, port) = Parse(isDefault ? DefaultAddress : setting!);
        return new DashboardListener(new IPEndPoint(localhost || address is null ? IPAddress.Loopback : address, port), isDefault);
    }

    /// <summary>Reads <c>ADDRESS:PORT</c> or <c>PORT</c> (on 127.0.0.1); port 0 picks a free one.</summary>
    public static (IPAddress? Address, bool Localhost, int Port) Parse(string setting)
    {
        var text = setting.Trim();
        if (text.EndsWith(":0", StringComparison.Ordinal) || text == "0")
        {
            var (address, localhost, _) = RemoteListener.Parse(text[..^1] + "1");
            return (address, localhost, 0);
        }
        try
        {
            return RemoteListener.Parse(text.Contains(':') ? text : "127.0.0.1:" + text);
        }
        catch (ArgumentException)
        {
            throw new ArgumentException($"dashboard address '{setting}' must be ADDRESS:PORT (for example {DefaultAddress}), or off");
        }
    }

    public void Configure(KestrelServerOptions kestrel) =>
        kestrel.Listen(_endpoint, l => l.Protocols = HttpProtocols.Http1AndHttp2);

    /// <summary>Binds the dashboard's socket; the default port, if taken, gives way to a free one.</summary>
    public Socket? TryBind(EndPoint endpoint, Action<int> portTaken)
    {
        if (endpoint is not IPEndPoint ip || !ip.Equals(_endpoint))
        {
            return null;
        }
        try
        {
            return SocketTransportOptions.CreateDefaultBoundListenSocket(endpoint);
        }
        catch (SocketException e) when (_isDefault && e.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            portTaken(ip.Port);
            return SocketTransportOptions.CreateDefaultBoundListenSocket(new IPEndPoint(ip.Address, 0));
        }
    }

    /// <summary>The dashboard's address as bound (http://ADDRESS:PORT/), from the server's listening addresses.</summary>
    public static string? BoundAddress(IServer server) =>
        server.Features.Get<IServerAddressesFeature>()?.Addresses
            .FirstOrDefault(a => a.StartsWith("http://", StringComparison.Ordinal) && !a.StartsWith("http://unix:", StringComparison.Ordinal)) is { } address
            ? address.TrimEnd('/') + "/"
            : null;

    /// <summary>Once listening: logs the address and writes it to the data folder (removed again when the agent stops).</summary>
    public static void Started(IServiceProvider services, MeeshkanHome home, int? portTaken)
    {
        var logger = services.GetRequiredService<Microsoft.Extensions.Logging.ILoggerFactory>().CreateLogger("Meeshkan.Agent.Dashboard");
        if (portTaken is { } port)
        {
            DashboardLog.PortTaken(logger, port);
        }
        if (BoundAddress(services.GetRequiredService<IServer>()) is not { } address)
        {
            return;
        }
        // Makes the access token (if this agent has none yet) before `meeshkan dashboard` can look for it.
        services.GetRequiredService<DashboardAuth>();
        PrivateFile.Write(home.DashboardAddressPath, System.Text.Encoding.UTF8.GetBytes(address + "\n"));
        DashboardLog.Listening(logger, address);
        services.GetRequiredService<Microsoft.Extensions.Hosting.IHostApplicationLifetime>().ApplicationStopping.Register(() =>
        {
            try
            {
                File.Delete(home.DashboardAddressPath);
            }
            catch (IOException)
            {
            }
        });
    }

    /// <summary>The dashboard's services, and its observer among the agent's.</summary>
    public static IServiceCollection AddDashboard(IServiceCollection services, MeeshkanHome home)
    {
        services.TryAddSingleton(_ => new AccessToken(home));
        services.TryAddSingleton<FailureThrottle>();
        services.AddSingleton<DashboardJobs>();
        services.AddSingleton<DashboardAuth>();
        services.AddSingleton<DashboardEvents>();
        services.AddSingleton<IAgentObserver>(sp => sp.GetRequiredService<DashboardEvents>());
        services.AddHostedService(sp => sp.GetRequiredService<DashboardEvents>());
        return services;
    }
}
