using Cocona;
using Meeshkan.Agent.Config;
using Meeshkan.Cli.Remotes;
using Meeshkan.Agent.Remote;
using Meeshkan.Cli.Output;

namespace Meeshkan.Cli.Commands;

/// <summary>`meeshkan remote ...`: reaching this agent from another machine, and other machines' agents from here.</summary>
[HasSubCommands(typeof(RemoteSubCommands), "remote", Description = "Controls agents on other machines over TLS (token, rotate, add, list, remove).")]
internal sealed class RemoteCommands;

internal sealed class RemoteSubCommands
{
    [Command("token", Description = "Shows this agent's access token and certificate fingerprint (made on first use), for `meeshkan remote add` elsewhere.")]
    public async Task<int> Token()
    {
        var home = MeeshkanHome.FromEnvironment();
        var listen = await ListenAddressAsync(home);
        return Guard(() =>
        {
            var token = RemoteCredentials.LoadOrCreateToken(home);
            using var certificate = RemoteCredentials.LoadOrCreateCertificate(home);
            var fingerprint = CertificateFingerprint.Of(certificate);
            Console.WriteLine($"token        {token}");
            Console.WriteLine($"fingerprint  {fingerprint}");
            Console.WriteLine();
            Console.WriteLine("On the other machine (keep the token secret; it controls this agent):");
            Console.WriteLine($"  meeshkan remote add NAME {RemoteAddress(listen)} --token {token} --fingerprint {fingerprint}");
            if (listen is null)
            {
                Console.WriteLine();
                Console.WriteLine("This agent does not listen for remote CLIs yet: run `meeshkan stop`, then `meeshkan start --listen 0.0.0.0:7600` " +
                    "(or set \"listen\" in the config), and use that port above.");
            }
            return 0;
        });
    }

    [Command("rotate", Description = "Replaces this agent's access token; the old one stops working at once (no restart needed).")]
    public int Rotate()
    {
        var home = MeeshkanHome.FromEnvironment();
        return Guard(() =>
        {
            var token = RemoteCredentials.RotateToken(home);
            Console.WriteLine($"token        {token}");
            Console.WriteLine("The old token no longer works. On each machine that uses this agent, run `meeshkan remote add` again with the new token.");
            return 0;
        });
    }

    [Command("add", Description = "Stores an agent on another machine under a name: meeshkan remote add NAME https://HOST:PORT --token T --fingerprint F")]
    public int Add(
        [Argument(Description = "Name to use with --remote")] string name,
        [Argument(Description = "https://HOST:PORT of the agent's listener")] string address,
        [Option(Description = "The agent's access token (`meeshkan remote token` there)")] string token,
        [Option(Description = "The agent's certificate SHA-256 fingerprint (`meeshkan remote token` there)")] string fingerprint)
    {
        if (name.Length == 0 || name.StartsWith('-') || name.Any(char.IsWhiteSpace))
        {
            return AgentConnection.Fail($"'{name}' cannot be a remote name: use letters, digits, - or _", ExitCodes.Usage);
        }
        if (!Uri.TryCreate(address, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttps || uri.PathAndQuery != "/")
        {
            return AgentConnection.Fail($"'{address}' is not an https://HOST:PORT address (remotes are reached over TLS only)", ExitCodes.Usage);
        }
        if (CertificateFingerprint.Parse(fingerprint) is not { } hash)
        {
            return AgentConnection.Fail("--fingerprint must be the 64 hex digits `meeshkan remote token` shows (colons optional)", ExitCodes.Usage);
        }
        if (string.IsNullOrWhiteSpace(token))
        {
            return AgentConnection.Fail("--token must not be empty", ExitCodes.Usage);
        }
        return Update(remotes =>
        {
            remotes[name] = new RemoteSettings
            {
                Address = uri.GetLeftPart(UriPartial.Authority),
                Token = token.Trim(),
                Fingerprint = CertificateFingerprint.Format(hash),
            };
            Console.WriteLine($"Remote '{name}' added: {uri.GetLeftPart(UriPartial.Authority)}. Try `meeshkan --remote {name} list`.");
        });
    }

    [Command("list", Description = "Lists the stored remotes (never their tokens).")]
    public int List()
    {
        Dictionary<string, RemoteSettings> remotes;
        try
        {
            remotes = RemoteList.Load(MeeshkanHome.FromEnvironment().ConfigPath);
        }
        catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            return AgentConnection.Fail(e.Message, ExitCodes.Error);
        }
        if (remotes.Count == 0)
        {
            Console.WriteLine("No remotes yet. Add one with `meeshkan remote add NAME https://HOST:PORT --token T --fingerprint F`.");
            return 0;
        }
        var table = new TextTable("NAME", "ADDRESS", "FINGERPRINT");
        foreach (var (name, remote) in remotes.OrderBy(r => r.Key, StringComparer.Ordinal))
        {
            table.Add(name, remote.Address, remote.Fingerprint);
        }
        table.Print();
        return 0;
    }

    [Command("remove", Description = "Forgets a stored remote.")]
    public int Remove([Argument(Description = "The remote's name")] string name)
    {
        var found = false;
        var code = Update(remotes => found = remotes.Remove(name));
        if (code != 0)
        {
            return code;
        }
        if (!found)
        {
            return AgentConnection.Fail($"no remote named '{name}'", ExitCodes.NotFound);
        }
        Console.WriteLine($"Remote '{name}' removed.");
        return 0;
    }

    private static int Update(Action<Dictionary<string, RemoteSettings>> change)
    {
        var home = MeeshkanHome.FromEnvironment();
        return Guard(() =>
        {
            var remotes = RemoteList.Load(home.ConfigPath);
            change(remotes);
            RemoteList.Save(home.ConfigPath, remotes);
            return 0;
        });
    }

    private static int Guard(Func<int> body)
    {
        try
        {
            return body();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException
            or System.Security.Cryptography.CryptographicException)
        {
            return AgentConnection.Fail(e.Message, ExitCodes.Error);
        }
    }

    /// <summary>Where the running agent listens (it may have been started with --listen), else the config's "listen".</summary>
    private static async Task<string?> ListenAddressAsync(MeeshkanHome home)
    {
        using (var connection = new AgentConnection(home))
        {
            try
            {
                if (await connection.TryStatusAsync(TimeSpan.FromSeconds(5)) is { } status)
                {
                    return status.Listen.Length > 0 ? status.Listen : null;
                }
            }
            catch (Grpc.Core.RpcException)
            {
                // No agent to ask: the config says what the next start does.
            }
        }
        try
        {
            return AgentConfig.Load(home.ConfigPath).Listen;
        }
        catch (InvalidDataException)
        {
            return null;
        }
    }

    /// <summary>https://HOST:PORT another machine reaches: this machine's name when the agent listens on every address.</summary>
    private static string RemoteAddress(string? listen)
    {
        if (listen is null)
        {
            return $"https://{System.Net.Dns.GetHostName()}:7600";
        }
        try
        {
            var (address, localhost, port) = RemoteListener.Parse(listen);
            var host = localhost ? "localhost"
                : address is null || address.Equals(System.Net.IPAddress.Any) || address.Equals(System.Net.IPAddress.IPv6Any) ? System.Net.Dns.GetHostName()
                : address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{address}]" : address.ToString();
            return $"https://{host}:{port.ToString(System.Globalization.CultureInfo.InvariantCulture)}";
        }
        catch (ArgumentException)
        {
            return $"https://{System.Net.Dns.GetHostName()}:7600";
        }
    }
}
