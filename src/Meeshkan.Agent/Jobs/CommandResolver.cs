using Meeshkan.Agent.Config;

namespace Meeshkan.Agent.Jobs;

/// <summary>A submission the agent can run: the argv, where, with what, under which name.</summary>
public sealed record ResolvedCommand(IReadOnlyList<string> Argv, string WorkingDirectory,
    IReadOnlyDictionary<string, string> Environment, string Name, string? Python);

/// <summary>
/// Turns what the user typed into the argv the agent runs: <c>.py</c> with the chosen Python, <c>.sh</c> with bash,
/// anything else as a command with no shell. Every problem is an <see cref="InvalidRequestException"/> whose message
/// tells the user what to do; nothing is queued then.
/// </summary>
public static class CommandResolver
{
    public const int MaxNameLength = 256;

    public static ResolvedCommand Resolve(IReadOnlyList<string> command, string? name, string? workingDirectory,
        IReadOnlyDictionary<string, string>? environment, string? python, AgentConfig config)
    {
        if (command.Count == 0 || string.IsNullOrWhiteSpace(command[0]))
        {
            throw new InvalidRequestException("nothing to run: give a script (.py, .sh) or a command, e.g. `meeshkan submit train.py`");
        }
        foreach (var arg in command)
        {
            if (arg.Contains('\0'))
            {
                throw new InvalidRequestException("arguments must not contain NUL characters");
            }
        }
        var cwd = string.IsNullOrEmpty(workingDirectory) ? System.Environment.CurrentDirectory : workingDirectory;
        if (!Path.IsPathFullyQualified(cwd) || !Directory.Exists(cwd))
        {
            throw new InvalidRequestException($"working directory {cwd} does not exist");
        }
        var env = environment is { Count: > 0 }
            ? environment
            : System.Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
                .ToDictionary(e => (string)e.Key, e => (string?)e.Value ?? "");
        var path = env.TryGetValue("PATH", out var p) ? p : "/usr/local/bin:/usr/bin:/bin";

        var first = command[0];
        var rest = command.Skip(1);
        List<string> argv;
        string? interpreter = null;
        var notebook = first.EndsWith(".ipynb", StringComparison.Ordinal);
        if (first.EndsWith(".py", StringComparison.Ordinal) || notebook)
        {
            var chosen = FirstNonEmpty(python, env.GetValueOrDefault("MEESHKAN_PYTHON"), config.Python) ?? "python3";
            interpreter = FindExecutable(chosen, cwd, path)
                ?? throw new InvalidRequestException($"Python interpreter '{chosen}' not found; pass --python /path/to/python or set MEESHKAN_PYTHON");
            var script = ExistingScript(first, cwd);
            // A notebook runs cell by cell in a kernel of that Python (the client's runner, on the job's PYTHONPATH).
            argv = notebook ? [interpreter, "-m", "meeshkan._notebook", Notebooks.Valid(script), .. rest] : [interpreter, script, .. rest];
        }
        else if (first.EndsWith(".sh", StringComparison.Ordinal))
        {
            var bash = FindExecutable("bash", cwd, path) ?? "/bin/bash";
            argv = [bash, ExistingScript(first, cwd), .. rest];
        }
        else
        {
            var executable = FindExecutable(first, cwd, path)
                ?? throw new InvalidRequestException(first.Contains('/')
                    ? $"{first}: no such executable file (check the path and that it is executable: chmod +x)"
                    : $"{first}: command not found on PATH");
            argv = [executable, .. rest];
        }
        return new ResolvedCommand(argv, cwd, env, ValidName(name, first), interpreter);
    }

    /// <summary>The name given, or the script's or command's file name.</summary>
    public static string ValidName(string? name, string fallbackFrom)
    {
        var chosen = string.IsNullOrEmpty(name) ? Path.GetFileName(fallbackFrom.TrimEnd('/')) : name;
        if (string.IsNullOrWhiteSpace(chosen))
        {
            throw new InvalidRequestException("job name must not be blank");
        }
        if (chosen.Length > MaxNameLength)
        {
            throw new InvalidRequestException($"job name is {chosen.Length} characters long; use at most {MaxNameLength}");
        }
        if (chosen.Any(char.IsControl))
        {
            throw new InvalidRequestException("job name must not contain control characters (tabs, newlines, escapes)");
        }
        return chosen;
    }

    /// <summary>The interpreter .py jobs get when nothing more specific is asked for.</summary>
    public static string? DefaultPython(AgentConfig config)
    {
        var chosen = FirstNonEmpty(System.Environment.GetEnvironmentVariable("MEESHKAN_PYTHON"), config.Python) ?? "python3";
        return FindExecutable(chosen, System.Environment.CurrentDirectory, System.Environment.GetEnvironmentVariable("PATH") ?? "");
    }

    private static string ExistingScript(string script, string cwd)
    {
        var full = Path.GetFullPath(script, cwd);
        return File.Exists(full) ? full : throw new InvalidRequestException($"script not found: {full}");
    }

    /// <summary>An absolute path to an executable file: a path (relative to <paramref name="cwd"/>) or a name on PATH.</summary>
    public static string? FindExecutable(string nameOrPath, string cwd, string path)
    {
        if (nameOrPath.Contains('/'))
        {
            var full = Path.GetFullPath(nameOrPath, cwd);
            return IsExecutableFile(full) ? full : null;
        }
        foreach (var dir in path.Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(Path.GetFullPath(dir, cwd), nameOrPath);
            if (IsExecutableFile(candidate))
            {
                return candidate;
            }
        }
        return null;
    }

    private static bool IsExecutableFile(string path)
    {
        if (!File.Exists(path))
        {
            return false;
        }
        const UnixFileMode anyExecute = UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
        return (File.GetUnixFileMode(path) & anyExecute) != 0;
    }

    private static string? FirstNonEmpty(params string?[] values) => values.FirstOrDefault(v => !string.IsNullOrWhiteSpace(v));
}
