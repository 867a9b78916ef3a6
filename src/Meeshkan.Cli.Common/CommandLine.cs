namespace Meeshkan.Cli;

/// <summary>
/// Rewrites argv before parsing so that `meeshkan train.py` means `meeshkan submit train.py`, and so that the
/// job's own options (`meeshkan submit train.py --lr 0.1`) go to the job, not to meeshkan.
/// </summary>
internal static class CommandLine
{
    public static readonly string[] Commands =
    [
        "start", "stop", "status", "agent", "submit", "list", "logs", "cancel", "report", "notifications",
        "clear", "clean", "setup", "sorry", "help", "remote", "pause", "resume", "wait", "retry", "dashboard",
    ];

    // submit's own options that take a value.
    private static readonly string[] SubmitValueOptions = ["-n", "--name", "-r", "--report-interval", "--python", "--cwd", "--gpus", "--gpu-ids", "--priority", "--scalar-pattern",
        "--after", "--after-any", "--timeout", "--retries", "--retry-delay", "--stop-if", "--on", "--cpus", "--mem", "--partition"];

    public static string[] Normalize(string[] args)
    {
        args = RemoteTarget.TakeOption(args);
        if (args.Length == 0)
        {
            return ["--help"];
        }
        if (args[0] == "help")
        {
            return args.Length > 1 ? [args[1], "--help"] : ["--help"];
        }
        if (!args[0].StartsWith('-') && !Commands.Contains(args[0]) && LooksLikeJob(args[0]))
        {
            args = ["submit", .. args];
        }
        return args[0] == "submit" ? SeparateJobArguments(args) : args;
    }

    /// <summary>
    /// The position (1-based) of the first of the <paramref name="count"/> arguments that is not valid UTF-8, read from
    /// the kernel's copy of argv: .NET has already replaced such bytes with U+FFFD in <c>args</c>, which would silently
    /// change a job's name or arguments.
    /// </summary>
    public static int? FirstNonUtf8Argument(int count)
    {
        List<byte[]> words;
        try
        {
            words = RawArguments();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        var strict = new System.Text.UTF8Encoding(false, throwOnInvalidBytes: true);
        // The user's words are the last `count` ones (before them: the program, or `dotnet` and the dll).
        var first = words.Count - count;
        for (var i = Math.Max(first, 0); i < words.Count; i++)
        {
            try
            {
                strict.GetCharCount(words[i]);
            }
            catch (System.Text.DecoderFallbackException)
            {
                return i - first + 1;
            }
        }
        return null;
    }

    /// <summary>This process's argv, byte for byte, as the kernel holds it (/proc/self/cmdline).</summary>
    public static List<byte[]> RawArguments()
    {
        var raw = File.ReadAllBytes("/proc/self/cmdline");
        var words = new List<byte[]>();
        for (int start = 0, end; start < raw.Length; start = end + 1)
        {
            end = Array.IndexOf(raw, (byte)0, start);
            end = end < 0 ? raw.Length : end;
            words.Add(raw[start..end]);
        }
        return words;
    }

    /// <summary>An option's whole, positive number of seconds (null when not given); a usage mistake otherwise.</summary>
    public static int? Seconds(string? text, string option)
    {
        if (text is null)
        {
            return null;
        }
        if (!int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var seconds) || seconds <= 0)
        {
            throw new UsageException($"{option} takes a whole, positive number of seconds, such as 60 (not '{text}')");
        }
        return seconds;
    }

    private static bool LooksLikeJob(string arg) =>
        arg.EndsWith(".py", StringComparison.Ordinal) || arg.EndsWith(".sh", StringComparison.Ordinal) || File.Exists(arg);

    /// <summary>Inserts `--` before the first word that is not one of submit's own options.</summary>
    private static string[] SeparateJobArguments(string[] args)
    {
        for (var i = 1; i < args.Length; i++)
        {
            var arg = args[i];
            if (arg == "--")
            {
                return args;
            }
            if (SubmitValueOptions.Contains(arg))
            {
                i++;
                continue;
            }
            if (arg.StartsWith('-') && (arg.Contains('=') || arg is "-h" or "--help"))
            {
                continue;
            }
            if (arg.StartsWith("-n", StringComparison.Ordinal) || arg.StartsWith("-r", StringComparison.Ordinal))
            {
                continue;
            }
            if (!arg.StartsWith('-'))
            {
                return [.. args[..i], "--", .. args[i..]];
            }
            return args;
        }
        return args;
    }
}
