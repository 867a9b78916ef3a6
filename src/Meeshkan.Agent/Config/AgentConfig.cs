using System.Text.Json;
using System.Text.Json.Serialization;

namespace Meeshkan.Agent.Config;

/// <summary>
/// The user's settings, kept as JSON in <c>$MEESHKAN_HOME/config</c> (mode 0600), written by <c>meeshkan setup</c>.
/// Unknown keys are kept, so that older agents do not erase newer settings.
/// </summary>
public sealed class AgentConfig
{
    /// <summary>Interpreter for .py jobs when neither --python nor MEESHKAN_PYTHON is given.</summary>
    public string? Python { get; set; }

    /// <summary>Seconds between SIGTERM and SIGKILL when a running job is canceled.</summary>
    public int CancelGraceSeconds { get; set; } = 10;

    /// <summary>Minimum seconds between two firings of one condition.</summary>
    public int ConditionCooldownSeconds { get; set; } = 30;

    /// <summary>How many jobs run at once (<c>setup --slots</c>). With one, a job sees every GPU, as before slots existed.</summary>
    public int Slots { get; set; } = 1;

    /// <summary>The GPUs the agent hands out: <c>auto</c> (every GPU nvidia-smi shows), <c>none</c>, or <c>0,1,3</c> (preferred in that order).</summary>
    public string? Gpus { get; set; }

    /// <summary>Used memory (MiB) above which a GPU that no job of ours holds is taken to be busy with someone else's process.</summary>
    public int GpuBusyMemoryMib { get; set; } = DefaultGpuBusyMemoryMib;

    public const int DefaultGpuBusyMemoryMib = 500;

    /// <summary>Seconds after which a waiting job goes ahead of every other and has its GPUs kept for it (the starvation rule).</summary>
    public int ReserveAfterSeconds { get; set; } = DefaultReserveAfterSeconds;

    public const int DefaultReserveAfterSeconds = 600;

    /// <summary>Where notifications go (Slack, Discord, a webhook, email) and how they are retried.</summary>
    public NotificationSettings Notifications { get; set; } = new();

    /// <summary>
    /// <c>ADDRESS:PORT</c> where the agent also listens for remote CLIs, over TLS with a token (docs/remote.md);
    /// null: the Unix socket only. <c>meeshkan start --listen</c> overrides it.
    /// </summary>
    public string? Listen { get; set; }

    /// <summary>The Slurm executor's settings (<c>meeshkan setup --slurm</c>); null: not set up.</summary>
    public SlurmSettings? Slurm { get; set; }

    /// <summary>Where jobs run unless <c>submit --on</c> says otherwise: "local" (default) or "slurm".</summary>
    public string? Executor { get; set; }

    /// <summary>
    /// <c>ADDRESS:PORT</c> of the dashboard (plain HTTP; default 127.0.0.1:7601), or <c>off</c>: <c>meeshkan setup
    /// --dashboard</c> / <c>--no-dashboard</c>. Applies at the agent's next start.
    /// </summary>
    public string? Dashboard { get; set; }

    /// <summary>
    /// Settings this version does not know, kept as they are; among them the CLI's own (<c>remotes</c>: the agents on
    /// other machines this CLI drives, src/Meeshkan.Cli.Common/Remotes), which the agent never reads.
    /// </summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Other { get; set; }

    private static readonly AgentJson Json = new(new JsonSerializerOptions
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        Converters = { new JsonStringEnumConverter<SmtpSecurity>(JsonNamingPolicy.SnakeCaseLower) },
    });

    /// <summary>Reads the config; a missing file is the defaults. A malformed file is an error naming the file.</summary>
    public static AgentConfig Load(string path)
    {
        if (!File.Exists(path))
        {
            return new AgentConfig();
        }
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllText(path), Json.AgentConfig) ?? new AgentConfig();
        }
        catch (JsonException e)
        {
            throw new InvalidDataException(Problem(path, e), e);
        }
    }

    /// <summary>
    /// What is wrong with the file, in the user's words: the file, the line and the setting (<c>notifications.slack</c>),
    /// and advice that works (`meeshkan setup` keeps the broken file aside and starts a fresh one).
    /// </summary>
    public static string Problem(string path, JsonException e)
    {
        var line = e.LineNumber is { } n ? $", line {n + 1}" : "";
        var field = (e.Path ?? "$").TrimStart('$').TrimStart('.');
        var what = field.Length > 0 && e.InnerException is not JsonException && e.BytePositionInLine is not null && IsValueProblem(e)
            ? $", the value of \"{field}\" has the wrong type or form (see docs/notifications.md for each setting)"
            : field.Length > 0 ? $", not valid JSON near \"{field}\"" : ", not valid JSON";
        return $"{path}{line}: not valid config{what}; fix it there, or run `meeshkan setup` to start a fresh config (the broken file is kept beside it)";
    }

    // System.Text.Json says "could not be converted" for a value of the wrong type; anything else is the JSON itself.
    private static bool IsValueProblem(JsonException e) =>
        e.Message.Contains("convert", StringComparison.OrdinalIgnoreCase) || e.Message.Contains("Deserialize", StringComparison.Ordinal);

    /// <summary>Writes the config atomically, readable by its owner only from the first byte (it holds secrets).</summary>
    public void Save(string path) => PrivateFile.Write(path, JsonSerializer.SerializeToUtf8Bytes(this, Json.AgentConfig));
}
