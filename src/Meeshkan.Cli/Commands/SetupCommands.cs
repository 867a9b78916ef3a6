using System.Formats.Tar;
using System.IO.Compression;
using System.Text.Json.Nodes;
using Cocona;
using Meeshkan.Agent;
using Meeshkan.Agent.Config;

namespace Meeshkan.Cli.Commands;

/// <summary>setup and sorry: the user's settings and a diagnostic bundle.</summary>
internal sealed class SetupCommands
{
    [Command("setup", Description = "Configures Meeshkan (asks interactively; flags for scripts). Restart the agent to apply.")]
    public int Setup([Option(Description = "Python interpreter for .py jobs")] string? python = null)
    {
        var home = MeeshkanHome.FromEnvironment();
        AgentConfig config;
        try
        {
            config = AgentConfig.Load(home.ConfigPath);
        }
        catch (InvalidDataException e)
        {
            return AgentConnection.Fail(e.Message, ExitCodes.Error);
        }
        var interactive = python is null && !Console.IsInputRedirected;
        if (interactive)
        {
            python = Ask("Python interpreter for .py jobs", config.Python ?? "python3");
        }
        if (python is not null)
        {
            config.Python = python.Length == 0 ? null : python;
        }
        Directory.CreateDirectory(home.Root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        config.Save(home.ConfigPath);
        Console.WriteLine($"Configuration written to {home.ConfigPath}.");
        return 0;
    }

    [Command("sorry", Description = "Writes a diagnostic bundle (agent log, versions, config with secrets masked) to the current folder.")]
    public int Sorry()
    {
        var home = MeeshkanHome.FromEnvironment();
        var path = Path.Combine(Environment.CurrentDirectory, $"meeshkan-sorry-{DateTime.UtcNow:yyyyMMdd-HHmmss}.tar.gz");
        using (var file = File.Create(path))
        using (var gzip = new GZipStream(file, CompressionLevel.Optimal))
        using (var tar = new TarWriter(gzip))
        {
            AddText(tar, "versions.txt",
                $"meeshkan {AgentOptions.Version}\n.NET {Environment.Version}\nOS {System.Runtime.InteropServices.RuntimeInformation.OSDescription}\n" +
                $"data folder {home.Root}\n");
            if (File.Exists(home.AgentLog))
            {
                AddText(tar, "agent.log", Tail(home.AgentLog, 2 * 1024 * 1024));
            }
            if (File.Exists(home.ConfigPath))
            {
                AddText(tar, "config.masked.json", MaskSecrets(File.ReadAllText(home.ConfigPath)));
            }
        }
        Console.WriteLine(path);
        return 0;
    }

    /// <summary>Every string value under a key that may hold a secret is replaced; so is anything unparsable.</summary>
    internal static string MaskSecrets(string json)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(json);
        }
        catch (System.Text.Json.JsonException)
        {
            return "(config is not valid JSON; not included)";
        }
        Mask(root, parentIsSecret: false);
        return root?.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }) ?? "";
    }

    private static readonly string[] SecretWords = ["secret", "token", "password", "url", "webhook", "key", "user"];

    private static void Mask(JsonNode? node, bool parentIsSecret)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (key, child) in obj.ToList())
                {
                    var secret = parentIsSecret || SecretWords.Any(w => key.Contains(w, StringComparison.OrdinalIgnoreCase));
                    if (secret && child is JsonValue)
                    {
                        obj[key] = "***";
                    }
                    else
                    {
                        Mask(child, secret);
                    }
                }
                break;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    if (parentIsSecret && array[i] is JsonValue)
                    {
                        array[i] = "***";
                    }
                    else
                    {
                        Mask(array[i], parentIsSecret);
                    }
                }
                break;
        }
    }

    private static string Ask(string question, string current)
    {
        Console.Write($"{question} [{current}]: ");
        var answer = Console.ReadLine()?.Trim();
        return string.IsNullOrEmpty(answer) ? current : answer;
    }

    private static string Tail(string path, int maxBytes)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        file.Seek(Math.Max(0, file.Length - maxBytes), SeekOrigin.Begin);
        return new StreamReader(file).ReadToEnd();
    }

    private static void AddText(TarWriter tar, string name, string text)
    {
        var entry = new PaxTarEntry(TarEntryType.RegularFile, name)
        {
            DataStream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(text)),
            Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        };
        tar.WriteEntry(entry);
    }
}
