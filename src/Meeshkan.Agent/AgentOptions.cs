namespace Meeshkan.Agent;

/// <summary>How one agent process is set up. Defaults suit the installed `meeshkan` tool.</summary>
public sealed class AgentOptions
{
    public required MeeshkanHome Home { get; init; }

    /// <summary>The `meeshkan` executable, exported to jobs as MEESHKAN_CLI.</summary>
    public string CliPath { get; init; } = Environment.ProcessPath ?? "meeshkan";

    /// <summary>Folder holding the bundled Python package `meeshkan`, put on jobs' PYTHONPATH.</summary>
    public string PythonClientPath { get; init; } = Path.Combine(AppContext.BaseDirectory, "python");

    /// <summary>Also listen on TCP with TLS for remote CLIs (<c>--listen ADDRESS:PORT</c>); null uses the config's <c>listen</c>.</summary>
    public string? Listen { get; init; }

    /// <summary>How often adopted jobs (started by an earlier agent) are checked for their end.</summary>
    public TimeSpan AdoptedJobPollInterval { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Agent version shown by `meeshkan status`.</summary>
    public static string Version { get; } =
        typeof(AgentOptions).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
            .OfType<System.Reflection.AssemblyInformationalVersionAttribute>().FirstOrDefault()?.InformationalVersion.Split('+')[0] ?? "0.0.0";
}
