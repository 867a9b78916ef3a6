using System.Diagnostics;
using System.Text;

namespace Meeshkan.Testing;

/// <summary>What one `meeshkan` call printed and returned.</summary>
public sealed record CliResult(int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Stdout}--- stderr\n{Stderr}";
}

/// <summary>
/// A temporary MEESHKAN_HOME and the real `meeshkan` executable run against it, as a user would.
/// Disposing stops the agent (cancelling its jobs) and removes the folder.
/// </summary>
public sealed class MeeshkanSandbox : IDisposable
{
    private readonly string _executable;

    /// <param name="executable">The `meeshkan` to run (default: <see cref="Executable"/>).</param>
    /// <param name="home">The data folder (default: a new temporary folder).</param>
    public MeeshkanSandbox(string? executable = null, string? home = null)
    {
        _executable = executable ?? Executable;
        // Short: a Unix socket path must fit in 107 bytes.
        Home = home ?? Directory.CreateTempSubdirectory("mk-").FullName;
        WorkDir = Directory.CreateTempSubdirectory("mkw-").FullName;
    }

    public string Home { get; }

    public string WorkDir { get; }

    public string SocketPath => Path.Combine(Home, "agent.sock");

    /// <summary>Environment added to every call (and so to every job submitted through it).</summary>
    public Dictionary<string, string> Environment { get; } = new() { ["MEESHKAN_PYTHON"] = "/usr/bin/python3" };

    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>
    /// The `meeshkan` under test: MEESHKAN_EXE (the build's Test target sets it to the native executable it publishes,
    /// the one users install), else the small `meeshkan` built next to this test run (same configuration), which has the
    /// complete CLI's build in its core/ as the installed tool has: either way the tests run the front and the core.
    /// </summary>
    public static string Executable { get; } = System.Environment.GetEnvironmentVariable("MEESHKAN_EXE") is { Length: > 0 } exe
        ? exe
        : Path.Combine(RepoRoot, "src", "Meeshkan.Front", "bin", Configuration, "net10.0", "meeshkan");

    /// <summary>The C# SDK example (examples/dotnet/ReportExample), built with the solution in this run's configuration.</summary>
    public static string CSharpExample { get; } =
        Path.Combine(RepoRoot, "examples", "dotnet", "ReportExample", "bin", Configuration, "net10.0", "ReportExample");

    /// <summary>Release or Debug: the configuration this test assembly was built in.</summary>
    public static string Configuration =>
        AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}") ? "Release" : "Debug";

    public CliResult Run(params string[] args) => RunIn(WorkDir, null, TimeSpan.FromSeconds(60), args);

    public CliResult RunWithInput(string input, params string[] args) => RunIn(WorkDir, input, TimeSpan.FromSeconds(60), args);

    public CliResult RunIn(string workingDirectory, string? stdin, TimeSpan timeout, params string[] args)
    {
        var environment = new Dictionary<string, string> { ["MEESHKAN_HOME"] = Home };
        foreach (var (key, value) in Environment)
        {
            environment[key] = value;
        }
        return RunProgram(_executable, args, workingDirectory, environment, timeout, stdin);
    }

    /// <summary>
    /// Runs any program to its end with these arguments, extra environment and standard input (none: closed), and
    /// returns what it printed; killed with its children, and a <see cref="TimeoutException"/>, past the timeout.
    /// </summary>
    public static CliResult RunProgram(string program, IEnumerable<string> args, string workingDirectory,
        IReadOnlyDictionary<string, string>? environment, TimeSpan timeout, string? stdin = null)
    {
        var start = new ProcessStartInfo(program)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            process.StandardInput.Write(stdin);
        }
        process.StandardInput.Close();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{Path.GetFileName(program)} {string.Join(' ', start.ArgumentList)} did not finish within {timeout}");
        }
        return new CliResult(process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>Runs a command that must succeed, and returns its stdout.</summary>
    public string Ok(params string[] args)
    {
        var result = Run(args);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"meeshkan {string.Join(' ', args)} failed: {result}");
        }
        return result.Stdout;
    }

    public void Start() => Ok("start");

    /// <summary>Starts the agent listening for remote CLIs with TLS on 127.0.0.1 at a free port, and returns the port.</summary>
    public int StartListening()
    {
        var port = Ports.Free();
        Ok("start", "--listen", $"127.0.0.1:{port}");
        return port;
    }

    /// <summary>Writes a file in the work folder (executable when it is a script) and returns its path.</summary>
    public string WriteFile(string name, string content, bool executable = false)
    {
        var path = Path.Combine(WorkDir, name);
        File.WriteAllText(path, content.ReplaceLineEndings("\n"), new UTF8Encoding(false));
        if (executable)
        {
            File.SetUnixFileMode(path, File.GetUnixFileMode(path) | UnixFileMode.UserExecute);
        }
        return path;
    }

    /// <summary>Submits and returns the job number.</summary>
    public long Submit(params string[] args)
    {
        var output = Ok(["submit", .. args]);
        var words = output.Split(' ');
        return long.Parse(words[1].TrimEnd(':'), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Polls `meeshkan list --json` until the job is in one of the states, and returns its JSON line set.</summary>
    public ListedJob WaitForState(long number, TimeSpan timeout, params string[] states)
    {
        var clock = Stopwatch.StartNew();
        ListedJob? last = null;
        while (clock.Elapsed < timeout)
        {
            last = Job(number);
            if (last is not null && states.Contains(last.State))
            {
                return last;
            }
            Thread.Sleep(50);
        }
        throw new TimeoutException($"job {number} did not reach {string.Join('/', states)} within {timeout}; last seen: {last?.State ?? "missing"}");
    }

    public ListedJob WaitForEnd(long number, int seconds = 60) =>
        WaitForState(number, TimeSpan.FromSeconds(seconds), "FINISHED", "FAILED", "CANCELED");

    public ListedJob? Job(long number) => Jobs().FirstOrDefault(j => j.Number == number);

    public IReadOnlyList<ListedJob> Jobs()
    {
        using var doc = System.Text.Json.JsonDocument.Parse(Ok("list", "--json"));
        return doc.RootElement.GetProperty("jobs").EnumerateArray().Select(ListedJob.From).ToList();
    }

    public void Dispose()
    {
        try
        {
            if (File.Exists(SocketPath))
            {
                Run("stop", "--cancel-jobs");
            }
        }
        catch (Exception)
        {
            // Best effort: the folder goes anyway.
        }
        KillAgentIfAlive();
        TryDelete(Home);
        TryDelete(WorkDir);
    }

    /// <summary>The agent's pid from its PID file, or null.</summary>
    public int? AgentPid =>
        File.Exists(Path.Combine(Home, "agent.pid")) && int.TryParse(File.ReadAllText(Path.Combine(Home, "agent.pid")), out var pid) ? pid : null;

    public void KillAgentIfAlive()
    {
        if (AgentPid is { } pid)
        {
            try
            {
                using var process = Process.GetProcessById(pid);
                process.Kill();
                process.WaitForExit(5000);
            }
            catch (ArgumentException)
            {
            }
            catch (InvalidOperationException)
            {
            }
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            Directory.Delete(path, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private static string FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Meeshkan.sln")))
        {
            dir = dir.Parent;
        }
        return dir?.FullName ?? throw new InvalidOperationException("cannot find the repository root (Meeshkan.sln) above " + AppContext.BaseDirectory);
    }
}

/// <summary>A job as `meeshkan list --json` shows it (<see cref="ExecutorState"/>: Slurm's word, "Slurm 12 RUNNING on node7").</summary>
public sealed record ListedJob(long Number, string Id, string Name, string State, string OutputDirectory, int? ExitCode, string FailureReason, int Pid,
    DateTime? StartedAt, DateTime? FinishedAt, string ExecutorState = "")
{
    public static ListedJob From(System.Text.Json.JsonElement e) => new(
        long.Parse(e.GetProperty("number").GetString()!, System.Globalization.CultureInfo.InvariantCulture),
        e.GetProperty("id").GetString()!,
        e.GetProperty("name").GetString()!,
        e.GetProperty("state").GetString()!.Replace("JOB_STATE_", ""),
        e.GetProperty("outputDirectory").GetString()!,
        e.GetProperty("hasExitCode").GetBoolean() ? e.GetProperty("exitCode").GetInt32() : null,
        e.GetProperty("failureReason").GetString()!,
        e.GetProperty("pid").GetInt32(),
        e.TryGetProperty("startedAt", out var started) ? started.GetDateTime() : null,
        e.TryGetProperty("finishedAt", out var finished) ? finished.GetDateTime() : null,
        e.TryGetProperty("executorState", out var executorState) ? executorState.GetString()! : "");
}
