namespace Meeshkan;

/// <summary>
/// The data folder of one agent (<c>$MEESHKAN_HOME</c>, default <c>~/.meeshkan</c>) and the files in it.
/// Every program that talks to an agent finds it through this one class.
/// </summary>
public sealed class MeeshkanHome
{
    /// <summary>The environment variable naming the data folder.</summary>
    public const string EnvironmentVariable = "MEESHKAN_HOME";

    /// <summary>Creates the layout for a data folder.</summary>
    public MeeshkanHome(string root) => Root = Path.GetFullPath(root);

    /// <summary>The data folder named by <c>MEESHKAN_HOME</c>, else <c>~/.meeshkan</c>.</summary>
    public static MeeshkanHome FromEnvironment()
    {
        var fromEnv = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(fromEnv))
        {
            return new MeeshkanHome(fromEnv);
        }
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return new MeeshkanHome(Path.Combine(home, ".meeshkan"));
    }

    /// <summary>The data folder itself.</summary>
    public string Root { get; }

    /// <summary>The agent's Unix domain socket.</summary>
    public string SocketPath => Path.Combine(Root, "agent.sock");

    /// <summary>The running agent's process id.</summary>
    public string PidFile => Path.Combine(Root, "agent.pid");

    /// <summary>The SQLite database.</summary>
    public string DatabasePath => Path.Combine(Root, "meeshkan.db");

    /// <summary>The agent's own logs.</summary>
    public string LogFolder => Path.Combine(Root, "logs");

    /// <summary>The agent's log file.</summary>
    public string AgentLog => Path.Combine(LogFolder, "agent.log");

    /// <summary>One folder per job, named by job number.</summary>
    public string JobsFolder => Path.Combine(Root, "jobs");

    /// <summary>The configuration written by <c>meeshkan setup</c>.</summary>
    public string ConfigPath => Path.Combine(Root, "config");

    /// <summary>The agent's self-signed TLS certificate and its private key (PKCS#12, mode 0600), made on first use.</summary>
    public string CertificatePath => Path.Combine(Root, "remote.pfx");

    /// <summary>The access token remote CLIs present (mode 0600); <c>meeshkan remote rotate</c> replaces it.</summary>
    public string AccessTokenPath => Path.Combine(Root, "remote.token");

    /// <summary>The dashboard's address (<c>http://127.0.0.1:PORT/</c>), written by the running agent for `meeshkan dashboard`.</summary>
    public string DashboardAddressPath => Path.Combine(Root, "dashboard.url");

    /// <summary>The output folder of job number <paramref name="number"/>.</summary>
    public string JobFolder(long number) => Path.Combine(JobsFolder, number.ToString(System.Globalization.CultureInfo.InvariantCulture));
}
