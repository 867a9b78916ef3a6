using Grpc.Core;
using Grpc.Net.Client;
using Meeshkan.Cli.Remotes;

namespace Meeshkan.Cli;

/// <summary>
/// The agent on another machine a command talks to, chosen with the global option <c>--remote NAME</c> (given before
/// the command) or <c>MEESHKAN_REMOTE=NAME</c>, among those stored by <c>meeshkan remote add</c>.
/// </summary>
internal sealed class RemoteTarget
{
    public const string EnvironmentVariable = "MEESHKAN_REMOTE";

    /// <summary>Commands about this machine's own agent and files: refused with a remote.</summary>
    private static readonly string[] LocalOnly = ["start", "stop", "agent", "setup", "sorry", "remote"];

    private readonly byte[] _fingerprint;

    private RemoteTarget(string name, Uri address, string token, byte[] fingerprint)
    {
        Name = name;
        Address = address;
        Token = token;
        _fingerprint = fingerprint;
    }

    /// <summary>The name given with --remote, if any.</summary>
    public static string? SelectedName { get; private set; }

    public string Name { get; }

    public Uri Address { get; }

    private string Token { get; }

    /// <summary>Set when the server showed a certificate other than the pinned one.</summary>
    public string? PresentedFingerprint { get; private set; }

    /// <summary>Takes <c>--remote NAME</c> / <c>--remote=NAME</c> off the front of argv (before the command word).</summary>
    public static string[] TakeOption(string[] args)
    {
        var rest = new List<string>(args.Length);
        var i = 0;
        for (; i < args.Length; i++)
        {
            if (args[i] == "--remote" && i + 1 < args.Length)
            {
                SelectedName = args[++i];
            }
            else if (args[i].StartsWith("--remote=", StringComparison.Ordinal))
            {
                SelectedName = args[i]["--remote=".Length..];
            }
            else
            {
                break;
            }
        }
        rest.AddRange(args[i..]);
        var name = SelectedName ?? Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrEmpty(name) && rest.Count > 0 && LocalOnly.Contains(rest[0]) && !rest.Contains("--help") && !rest.Contains("-h"))
        {
            Console.Error.WriteLine($"meeshkan: `{rest[0]}` works on this machine only; run it on the remote's machine " +
                $"(or unset {EnvironmentVariable} / drop --remote {name})");
            Environment.Exit(ExitCodes.Usage);
        }
        return [.. rest];
    }

    /// <summary>The remote chosen for this call, or null for the local agent.</summary>
    public static RemoteTarget? Resolve(MeeshkanHome home)
    {
        var name = SelectedName;
        if (string.IsNullOrEmpty(name))
        {
            name = Environment.GetEnvironmentVariable(EnvironmentVariable);
        }
        if (string.IsNullOrEmpty(name))
        {
            return null;
        }
        Dictionary<string, RemoteSettings> remotes;
        try
        {
            remotes = RemoteList.Load(home.ConfigPath);
        }
        catch (InvalidDataException e)
        {
            throw new UsageException(e.Message);
        }
        if (remotes.GetValueOrDefault(name) is not { } settings)
        {
            throw new UsageException($"no remote named '{name}' in {home.ConfigPath}; add it with `meeshkan remote add {name} https://HOST:PORT --token T --fingerprint F`");
        }
        if (!Uri.TryCreate(settings.Address, UriKind.Absolute, out var address) || address.Scheme != Uri.UriSchemeHttps)
        {
            throw new UsageException($"remote '{name}' has no https address; add it again with `meeshkan remote add`");
        }
        var fingerprint = CertificateFingerprint.Parse(settings.Fingerprint)
            ?? throw new UsageException($"remote '{name}' has no valid certificate fingerprint; add it again with `meeshkan remote add`");
        return new RemoteTarget(name, address, settings.Token, fingerprint);
    }

    public GrpcChannel CreateChannel() => AgentChannel.ForRemote(Address, Token, _fingerprint, presented => PresentedFingerprint = presented);

    /// <summary>What to tell the user when a call to the remote failed at the connection or the token.</summary>
    public string? Explain(RpcException e)
    {
        if (PresentedFingerprint is { } presented)
        {
            return $"refusing remote '{Name}' ({Address}): its certificate has fingerprint {presented}, not the one stored " +
                $"({CertificateFingerprint.Format(_fingerprint)}). If that agent's certificate was made again, check `meeshkan remote token` " +
                "on its machine and run `meeshkan remote add` again";
        }
        return e.StatusCode switch
        {
            StatusCode.Unauthenticated => $"remote '{Name}' ({Address}) refused the token: run `meeshkan remote token` on its machine " +
                "and `meeshkan remote add` again here",
            StatusCode.Unavailable or StatusCode.Internal => $"cannot reach remote '{Name}' at {Address}: {e.Status.Detail}" +
                " (is the agent running there with `meeshkan start --listen`?)",
            _ => null,
        };
    }
}
