namespace Meeshkan.Cli.Remotes;

/// <summary>One agent on another machine, as <c>meeshkan remote add</c> stored it (under <c>remotes</c> in the config).</summary>
internal sealed class RemoteSettings
{
    /// <summary><c>https://HOST:PORT</c> of the agent's listener.</summary>
    public string Address { get; set; } = "";

    /// <summary>The agent's access token (a secret: the config file is mode 0600).</summary>
    public string Token { get; set; } = "";

    /// <summary>SHA-256 fingerprint of the agent's certificate; a server showing another one is refused.</summary>
    public string Fingerprint { get; set; } = "";
}
