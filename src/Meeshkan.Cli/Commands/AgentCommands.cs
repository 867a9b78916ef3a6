using System.Diagnostics;
using Cocona;
using Meeshkan.Agent;
using Meeshkan.Agent.Hosting;
using Meeshkan.Cli.Output;
using Meeshkan.V1;

namespace Meeshkan.Cli.Commands;

/// <summary>start, stop, status and agent: the agent's life.</summary>
internal sealed class AgentCommands
{
    private static readonly TimeSpan StartDeadline = TimeSpan.FromSeconds(15);

    [Command("start", Description = "Starts the Meeshkan agent in the background.")]
    public Task<int> Start(
        [Option(Description = "Also listen for remote CLIs on ADDRESS:PORT, over TLS with a token (docs/remote.md)")] string? listen = null) =>
        AgentConnection.RunAsync(connection => StartAsync(connection, listen));

    /// <summary>Starts the agent of this data folder unless it runs (also for `dashboard`); 0 once it answers.</summary>
    internal static async Task<int> StartAsync(AgentConnection connection, string? listen)
    {
        if (await connection.TryStatusAsync(TimeSpan.FromSeconds(2)) is { } running)
        {
            Console.WriteLine($"The agent is already running (pid {running.Pid}, data folder {running.DataFolder}).");
            return 0;
        }
        var home = connection.Home;
        if (await StartingAgentAsync(connection) is { } starting)
        {
            // A start at the same moment: its agent held the lock before it answered.
            Console.WriteLine($"The agent is already running (pid {starting.Pid}, data folder {starting.DataFolder}).");
            return 0;
        }
        if (SingleInstance.LockHolder(home) is { } holder)
        {
            return AgentConnection.Fail($"the agent is running (pid {holder}) but its socket {home.SocketPath} is gone; run `meeshkan stop`, then `meeshkan start`", ExitCodes.Error);
        }
        try
        {
            // Before the agent's log is opened in it: a folder someone else can write is refused here already.
            DataFolder.Prepare(home);
        }
        catch (DataFolderException e)
        {
            return AgentConnection.Fail(e.Message, ExitCodes.Error);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return AgentConnection.Fail($"cannot create the data folder {home.Root} ({e.Message}); set MEESHKAN_HOME to a folder you can write", ExitCodes.Error);
        }
        var logOffset = File.Exists(home.AgentLog) ? new FileInfo(home.AgentLog).Length : 0;
        using var child = SpawnDetached(home, listen);
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < StartDeadline)
        {
            if (await connection.TryStatusAsync(TimeSpan.FromSeconds(1)) is { } status)
            {
                // The child is the agent's keeper: the agent it started is its child.
                if (Meeshkan.Agent.Executors.Local.JobProcesses.Read(status.Pid)?.ParentPid == child.Id)
                {
                    Console.WriteLine($"Meeshkan agent started (pid {status.Pid}, data folder {status.DataFolder}).");
                }
                else
                {
                    Console.WriteLine($"The agent is already running (pid {status.Pid}, data folder {status.DataFolder}).");
                }
                return 0;
            }
            // Exit code 3: another agent holds the lock (a concurrent start); keep polling for that one.
            if (child.HasExited && child.ExitCode != AgentHost.AlreadyRunningExitCode)
            {
                return AgentConnection.Fail(StartFailure(home.AgentLog, logOffset), ExitCodes.Error);
            }
            await Task.Delay(clock.Elapsed < TimeSpan.FromSeconds(1) ? 10 : 100);
        }
        return AgentConnection.Fail($"the agent did not answer within {StartDeadline.TotalSeconds:0} s; its log:\n{LogTail(home.AgentLog, logOffset)}", ExitCodes.Error);
    }

    /// <summary>
    /// The status of an agent that holds the folder's lock and is still starting (younger than the start deadline),
    /// once it answers; null when no agent holds the lock, or it is older and does not answer (its socket is gone).
    /// </summary>
    private static async Task<AgentStatus?> StartingAgentAsync(AgentConnection connection)
    {
        while (SingleInstance.LockHolder(connection.Home) is { } holder
               && Meeshkan.Agent.Internal.Native.ProcessAge(holder) is { } age && age < StartDeadline)
        {
            if (await connection.TryStatusAsync(TimeSpan.FromSeconds(1)) is { } status)
            {
                return status;
            }
            await Task.Delay(50);
        }
        return null;
    }

    [Command("stop", Description = "Stops the agent. Running jobs keep running unless --cancel-jobs is given.")]
    public Task<int> Stop([Option("cancel-jobs", Description = "Cancel running jobs before stopping")] bool cancelJobs = false) =>
        AgentConnection.RunAsync(async connection =>
        {
            var status = await connection.TryStatusAsync(TimeSpan.FromSeconds(2));
            if (status is null && File.Exists(connection.Home.SocketPath) && SingleInstance.LockHolder(connection.Home) is not null)
            {
                // Its socket is there: a busy agent (a loaded machine) answers late. Ask again, longer, before signalling it.
                status = await connection.TryStatusAsync(TimeSpan.FromSeconds(15));
            }
            if (status is null)
            {
                if (SingleInstance.LockHolder(connection.Home) is { } pid)
                {
                    // Its socket is gone (deleted) or it does not answer: the lock and the pid file still name it; SIGTERM
                    // stops it as `stop` does.
                    var why = File.Exists(connection.Home.SocketPath) ? "it did not answer on its socket" : $"its socket {connection.Home.SocketPath} was gone";
                    Meeshkan.Agent.Internal.Native.Signal(pid, Meeshkan.Agent.Internal.Native.SIGTERM);
                    return await WaitForExitAsync(pid, $"Meeshkan agent stopped (pid {pid}; {why}).");
                }
                Console.WriteLine("The agent is not running.");
                return 0;
            }
            var reply = await connection.Jobs.ShutdownAsync(new ShutdownRequest { CancelJobs = cancelJobs });
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < TimeSpan.FromSeconds(15) && IsAlive(status.Pid))
            {
                await Task.Delay(20);
            }
            Console.WriteLine("Meeshkan agent stopped.");
            if (reply.CanceledJobNumbers.Count > 0)
            {
                Console.WriteLine($"Canceled running job(s): {string.Join(", ", reply.CanceledJobNumbers)}.");
            }
            if (reply.RunningJobNumbers.Count > 0)
            {
                Console.WriteLine($"Job(s) {string.Join(", ", reply.RunningJobNumbers)} keep running; the next `meeshkan start` picks them up.");
            }
            return 0;
        });

    [Command("status", Description = "Says whether the agent runs, and how.")]
    public Task<int> Status([Option("json", Description = "Print JSON")] bool json = false) => AgentConnection.RunAsync(async connection =>
    {
        var status = await connection.TryStatusAsync(TimeSpan.FromSeconds(3));
        if (json)
        {
            Console.WriteLine(StatusJson(status, connection.Home));
            return status is null ? ExitCodes.AgentNotRunning : 0;
        }
        if (status is null)
        {
            if (SingleInstance.LockHolder(connection.Home) is { } pid)
            {
                Console.Error.WriteLine($"meeshkan: the agent is running (pid {pid}) but its socket {connection.Home.SocketPath} is gone; run `meeshkan stop`, then `meeshkan start`.");
                return ExitCodes.Error;
            }
            Console.WriteLine($"The agent is not running (data folder {connection.Home.Root}). Start it with `meeshkan start`.");
            return ExitCodes.AgentNotRunning;
        }
        Console.WriteLine($"""
            Meeshkan agent is running.
              version      {status.Version}
              pid          {status.Pid}
              uptime       {Format.Duration(DateTimeOffset.UtcNow - status.StartedAt.ToDateTimeOffset())}
              socket       {status.SocketPath}
              data folder  {status.DataFolder}
              python       {status.Python}
              jobs         {status.Queued} queued, {status.Running} running, {status.Finished} finished, {status.Failed} failed, {status.Canceled} canceled
              slots        {status.Slots} ({status.Running} running){(status.Paused ? ", queue paused: no new job starts until `meeshkan resume`" : "")}
            """);
        GpuTable.Print(status);
        return 0;
    });

    /// <summary>
    /// `status --json`, always JSON: <c>{"running": false, "dataFolder": ...}</c> without an agent, else also version,
    /// pid, startedAt, uptimeSeconds, socketPath, python and the job counts under "jobs", numbers as JSON numbers
    /// (README, Commands).
    /// </summary>
    private static string StatusJson(AgentStatus? status, MeeshkanHome home)
    {
        using var buffer = new MemoryStream();
        using (var json = new System.Text.Json.Utf8JsonWriter(buffer, new System.Text.Json.JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteBoolean("running", status is not null);
            json.WriteString("dataFolder", status?.DataFolder ?? home.Root);
            if (status is not null)
            {
                var started = status.StartedAt.ToDateTimeOffset();
                json.WriteString("version", status.Version);
                json.WriteNumber("pid", status.Pid);
                json.WriteString("startedAt", started.ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture));
                json.WriteNumber("uptimeSeconds", Math.Round((DateTimeOffset.UtcNow - started).TotalSeconds, 1));
                json.WriteString("socketPath", status.SocketPath);
                json.WriteString("python", status.Python);
                json.WriteStartObject("jobs");
                json.WriteNumber("queued", status.Queued);
                json.WriteNumber("running", status.Running);
                json.WriteNumber("finished", status.Finished);
                json.WriteNumber("failed", status.Failed);
                json.WriteNumber("canceled", status.Canceled);
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    [Command("agent", Description = "Runs the agent in the foreground (for systemd and debugging).")]
    public Task<int> Agent(
        [Option(Description = "Also listen for remote CLIs on ADDRESS:PORT, over TLS with a token")] string? listen = null) =>
        AgentHost.RunAsync(new AgentOptions { Home = MeeshkanHome.FromEnvironment(), Listen = listen });

    /// <summary>
    /// Starts the agent's <see cref="Meeshkan.Agent.Executors.Local.JobKeeper"/> in its own session with its output
    /// appended to the agent log; the keeper runs `meeshkan agent` and exits with its exit status. `setsid` execs in
    /// place (its parent is not a group leader), so the returned process is the keeper itself.
    /// </summary>
    private static Process SpawnDetached(MeeshkanHome home, string? listen)
    {
        var start = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("log=$1; shift; exec setsid \"$@\" </dev/null >>\"$log\" 2>&1");
        start.ArgumentList.Add("sh");
        start.ArgumentList.Add(home.AgentLog);
        foreach (var arg in SelfCommand())
        {
            start.ArgumentList.Add(arg);
        }
        start.ArgumentList.Add(Meeshkan.Agent.Executors.Local.JobKeeper.Command);
        if (listen is not null)
        {
            start.ArgumentList.Add("--listen");
            start.ArgumentList.Add(listen);
        }
        start.Environment[MeeshkanHome.EnvironmentVariable] = home.Root;
        return Process.Start(start)!;
    }

    /// <summary>How to run this same `meeshkan` again: the apphost, or `dotnet meeshkan.dll`.</summary>
    internal static string[] SelfCommand()
    {
        var process = Environment.ProcessPath!;
        return Path.GetFileNameWithoutExtension(process) == "dotnet"
            ? [process, Path.Combine(AppContext.BaseDirectory, "meeshkan.dll")]
            : [process];
    }

    /// <summary>Waits up to 15 s for <paramref name="pid"/> to exit, then says <paramref name="stopped"/>.</summary>
    private static async Task<int> WaitForExitAsync(int pid, string stopped)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(15) && IsAlive(pid))
        {
            await Task.Delay(20);
        }
        if (IsAlive(pid))
        {
            return AgentConnection.Fail($"the agent (pid {pid}) did not stop within 15 s", ExitCodes.Error);
        }
        Console.WriteLine(stopped);
        return 0;
    }

    private static bool IsAlive(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    /// <summary>The agent's own one-line reason when it gave one (FATAL: ...), else the tail of its log.</summary>
    private static string StartFailure(string log, long offset)
    {
        var tail = LogTail(log, offset);
        var fatal = tail.Split('\n').Select(l => l.TrimStart()).LastOrDefault(l => l.StartsWith("FATAL: ", StringComparison.Ordinal));
        return fatal is null ? $"the agent could not start:\n{tail}" : $"the agent could not start: {fatal["FATAL: ".Length..]}";
    }

    private static string LogTail(string log, long offset)
    {
        if (!File.Exists(log))
        {
            return "  (no log)";
        }
        using var file = new FileStream(log, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        file.Seek(Math.Min(offset, file.Length), SeekOrigin.Begin);
        var lines = new StreamReader(file).ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries).TakeLast(20);
        return string.Join('\n', lines.Select(l => "  " + l));
    }
}
