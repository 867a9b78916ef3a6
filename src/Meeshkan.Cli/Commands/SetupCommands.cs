using System.Formats.Tar;
using System.IO.Compression;
using System.Text.Json.Nodes;
using Cocona;
using Meeshkan.Agent;
using Meeshkan.Agent.Config;
using Meeshkan.Cli.Setup;

namespace Meeshkan.Cli.Commands;

/// <summary>setup and sorry: the user's settings and a diagnostic bundle.</summary>
internal sealed class SetupCommands
{
    [Command("setup", Description = "Configures Meeshkan: the Python interpreter and the notification channels (asks interactively when run without flags in a terminal).")]
    public async Task<int> Setup(
        [Option(Description = "Python interpreter for .py jobs")] string? python = null,
        [Option("slack-webhook", Description = "Slack incoming webhook URL")] string? slackWebhook = null,
        [Option("no-slack", Description = "Remove the Slack channel")] bool noSlack = false,
        [Option("discord-webhook", Description = "Discord webhook URL")] string? discordWebhook = null,
        [Option("no-discord", Description = "Remove the Discord channel")] bool noDiscord = false,
        [Option("webhook-url", Description = "Generic webhook URL (receives Meeshkan's JSON body)")] string? webhookUrl = null,
        [Option("webhook-secret", Description = "Secret for the webhook's HMAC-SHA256 signature ('' removes it)")] string? webhookSecret = null,
        [Option("no-webhook", Description = "Remove the generic webhook")] bool noWebhook = false,
        [Option("smtp-host", Description = "SMTP server for email notifications")] string? smtpHost = null,
        [Option("smtp-port", Description = "SMTP port (default: 587 for starttls, 465 for tls, 25 for none)")] int? smtpPort = null,
        [Option("smtp-user", Description = "SMTP login name ('' for no login)")] string? smtpUser = null,
        [Option("smtp-password", Description = "SMTP password")] string? smtpPassword = null,
        [Option("smtp-security", Description = "starttls (default), tls or none")] string? smtpSecurity = null,
        [Option("email-from", Description = "Sender address")] string? emailFrom = null,
        [Option("email-to", Description = "Recipient address (repeat, or separate with commas)")] string[]? emailTo = null,
        [Option("no-email", Description = "Remove the email channel")] bool noEmail = false,
        [Option("telegram-token", Description = "Telegram bot token (from @BotFather)")] string? telegramToken = null,
        [Option("telegram-chat", Description = "Telegram chat id that gets notifications and may send commands (repeat, or separate with commas)")] string[]? telegramChat = null,
        [Option("telegram-api", Description = "Bot API base address (default https://api.telegram.org)")] string? telegramApi = null,
        [Option("no-telegram", Description = "Remove the Telegram bot")] bool noTelegram = false,
        [Option("slurm", Description = "Turn the Slurm executor on: jobs submitted --on slurm go to sbatch (docs/slurm.md)")] bool slurm = false,
        [Option("no-slurm", Description = "Turn the Slurm executor off")] bool noSlurm = false,
        [Option("slurm-partition", Description = "Default partition for Slurm jobs")] string? slurmPartition = null,
        [Option("slurm-account", Description = "Default account for Slurm jobs")] string? slurmAccount = null,
        [Option("slurm-args", Description = "Further sbatch options for every Slurm job, e.g. \"--qos=high\"")] string? slurmArgs = null,
        [Option("slurm-folder", Description = "Folder for Slurm jobs' output, on a filesystem the compute nodes see (default: the data folder)")] string? slurmFolder = null,
        [Option("slurm-agent-url", Description = "The TLS listener as compute nodes reach it, e.g. https://login1:7600 (default: this host, the listen port)")] string? slurmAgentUrl = null,
        [Option("executor", Description = "Where jobs run unless submit --on says: local (default) or slurm")] string? executor = null,
        [Option("test", Description = "Send a test notification to each configured channel and report which worked")] bool test = false,
        [Option("slots", Description = "How many jobs run at once (default 1); a running agent applies it at once")] string? slots = null,
        [Option("gpus", Description = "GPUs to hand out: auto (default: all nvidia-smi shows), none, or indexes in order of preference like 0,1,3")] string? gpus = null,
        [Option("gpu-busy-memory", Description = "MiB of used memory above which a GPU no job holds counts as busy with another program (default 500)")] string? gpuBusyMemory = null,
        [Option("reserve-after", Description = "Seconds a job may wait before it goes first and its GPUs are kept for it (default 600)")] string? reserveAfter = null,
        [Option("dashboard", Description = "Dashboard address ADDRESS:PORT (default 127.0.0.1:7601; port 0 picks a free one)")] string? dashboard = null,
        [Option("no-dashboard", Description = "Turn the dashboard off")] bool noDashboard = false)
    {
        var home = MeeshkanHome.FromEnvironment();
        AgentConfig config;
        try
        {
            config = AgentConfig.Load(home.ConfigPath);
        }
        catch (InvalidDataException e)
        {
            // Setup is the repair: the broken file is kept aside (whatever it held can be copied back by hand).
            var kept = $"{home.ConfigPath}.broken-{DateTime.Now:yyyyMMdd-HHmmss}";
            try
            {
                File.Move(home.ConfigPath, kept);
            }
            catch (Exception move) when (move is IOException or UnauthorizedAccessException)
            {
                return AgentConnection.Fail($"{e.Message}; and it cannot be moved aside ({move.Message})", ExitCodes.Error);
            }
            Console.Error.WriteLine($"meeshkan: {e.Message}");
            Console.Error.WriteLine($"meeshkan: starting from a fresh config; the broken one is kept as {kept}");
            config = new AgentConfig();
        }
        var changes = new SetupChanges(python, slackWebhook, noSlack, discordWebhook, noDiscord, webhookUrl, webhookSecret, noWebhook,
            smtpHost, smtpPort, smtpUser, smtpPassword, smtpSecurity, emailFrom, emailTo, noEmail);
        var telegram = new TelegramSetup(telegramToken, telegramChat, telegramApi, noTelegram);
        var queue = new QueueSetup(slots, gpus, gpuBusyMemory, reserveAfter);
        var slurmSetup = new SlurmSetup(slurm, noSlurm, slurmPartition, slurmAccount, slurmArgs, slurmFolder, slurmAgentUrl, executor);
        var dashboardSetup = new DashboardSetup(dashboard, noDashboard);
        var anyFlag = changes.Any || telegram.Any || queue.Any || slurmSetup.Any || dashboardSetup.Any;
        try
        {
            if (!anyFlag && !test && !Console.IsInputRedirected)
            {
                SetupPrompts.Ask(config);
            }
            else
            {
                changes.ApplyTo(config);
                telegram.ApplyTo(config);
                queue.ApplyTo(config);
                slurmSetup.ApplyTo(config);
                dashboardSetup.ApplyTo(config);
            }
        }
        catch (ArgumentException e)
        {
            return AgentConnection.Fail(e.Message, ExitCodes.Usage);
        }
        if (anyFlag || !test)
        {
            Directory.CreateDirectory(home.Root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            config.Save(home.ConfigPath);
            Console.WriteLine($"Configuration written to {home.ConfigPath} (readable by you only).");
            Console.WriteLine($"Notification channels: {SetupPrompts.Describe(config.Notifications)}.");
            if (config.Slurm is { Enabled: true } s)
            {
                Console.WriteLine($"Slurm: on (jobs go there with submit --on slurm{(config.Executor == "slurm" ? ", and by default" : "")}); " +
                    $"job folders in {s.Folder ?? home.JobsFolder}.");
            }
            Console.WriteLine("A running agent picks up channel changes with its next notification; the Python setting applies after `meeshkan stop` and `meeshkan start`.");
            if (queue.Any)
            {
                Console.WriteLine($"Queue: {QueueSetup.Describe(config)}.");
                await QueueCommands.ReloadRunningAgentAsync(home);
            }
            if (dashboardSetup.Any)
            {
                Console.WriteLine($"Dashboard: {(noDashboard ? "off" : dashboard)}; applies after `meeshkan stop` and `meeshkan start`.");
            }
        }
        return test ? await NotificationTest.RunAsync(config.Notifications) : 0;
    }

    [Command("sorry", Description = "Writes a diagnostic bundle (agent log, versions, config with secrets masked) to the current folder.")]
    public int Sorry()
    {
        var home = MeeshkanHome.FromEnvironment();
        var path = Path.Combine(Environment.CurrentDirectory, $"meeshkan-sorry-{DateTime.UtcNow:yyyyMMdd-HHmmss}.tar.gz");
        // The bundle holds the agent's log (job names, commands, errors): readable by its owner only (0600).
        using (var file = new FileStream(path, new FileStreamOptions
        {
            Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        }))
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
