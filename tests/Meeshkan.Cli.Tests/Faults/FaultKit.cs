using System.Diagnostics;
using System.Text.Json;
using Grpc.Core;
using Meeshkan.Testing;
using Meeshkan.V1;

namespace Meeshkan.Cli.Tests.Faults;

/// <summary>What one `meeshkan` call wrote, as bytes, and the peak memory of its process.</summary>
public sealed record RawResult(int ExitCode, byte[] Stdout, byte[] Stderr, long PeakRssKb);

/// <summary>Ways to hurt an agent and its jobs, and to look at what is left afterwards.</summary>
public static class FaultKit
{
    /// <summary>SIGKILL to the agent: no shutdown code runs.</summary>
    public static void KillAgent(MeeshkanSandbox sandbox)
    {
        var pid = sandbox.AgentPid ?? throw new AssertionException("no agent pid file: the agent is not running");
        using var process = Process.GetProcessById(pid);
        process.Kill();
        process.WaitForExit(30_000);
        FaultCounts.Fault();
    }

    /// <summary>`meeshkan stop`, and waits until the agent's process is gone (on a loaded machine that can outlast stop's own wait).</summary>
    public static void Stop(MeeshkanSandbox sandbox)
    {
        var pid = sandbox.AgentPid;
        sandbox.Ok("stop");
        FaultCounts.Fault();
        if (pid is { } agent)
        {
            WaitFor(() => !Alive(agent), "the stopped agent exits");
        }
    }

    /// <summary>`meeshkan stop` then `meeshkan start`.</summary>
    public static void Restart(MeeshkanSandbox sandbox)
    {
        Stop(sandbox);
        sandbox.Start();
    }

    public static bool Alive(int pid) => Processes.Alive(pid);

    /// <summary>Waits up to two minutes by default: fault tests restart agents on a loaded machine.</summary>
    public static void WaitFor(Func<bool> condition, string what, int seconds = 120) => Wait.For(condition, what, seconds);

    public static ListedJob Job(MeeshkanSandbox sandbox, long number) =>
        sandbox.Job(number) ?? throw new AssertionException($"job {number} is missing");

    /// <summary>Runs a shell command line (for raw bytes in argv and redirections) with the sandbox's environment.</summary>
    public static RawResult Shell(MeeshkanSandbox sandbox, string script, int seconds = 300, IDictionary<string, string>? env = null)
    {
        var out1 = Path.Combine(sandbox.WorkDir, $".out-{Guid.NewGuid():N}");
        var err1 = out1 + ".err";
        var rss = out1 + ".rss";
        var start = new ProcessStartInfo("/bin/sh") { UseShellExecute = false, WorkingDirectory = sandbox.WorkDir };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add($"{script} >'{out1}' 2>'{err1}'");
        start.Environment["MEESHKAN_HOME"] = sandbox.Home;
        start.Environment["MK"] = MeeshkanSandbox.Executable;
        start.Environment["RSS"] = rss;
        foreach (var (key, value) in sandbox.Environment)
        {
            start.Environment[key] = value;
        }
        foreach (var (key, value) in env ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }
        using var process = Process.Start(start)!;
        if (!process.WaitForExit(TimeSpan.FromSeconds(seconds)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"`{script}` did not finish within {seconds} s");
        }
        try
        {
            var peak = File.Exists(rss) && long.TryParse(File.ReadAllText(rss).Trim().Split('\n')[^1], out var kb) ? kb : -1;
            return new RawResult(process.ExitCode, File.ReadAllBytes(out1), File.ReadAllBytes(err1), peak);
        }
        finally
        {
            File.Delete(out1);
            File.Delete(err1);
            File.Delete(rss);
        }
    }

    /// <summary>The values of one scalar's history, from `meeshkan report JOB --history NAME --json`.</summary>
    public static List<(long Step, double Value)> History(MeeshkanSandbox sandbox, long job, string name)
    {
        var result = sandbox.Run("report", job.ToString(), "--history", name, "--json");
        if (result.ExitCode != 0)
        {
            return [];
        }
        using var doc = JsonDocument.Parse(result.Stdout);
        if (!doc.RootElement.TryGetProperty("history", out var history))
        {
            return [];
        }
        return history.EnumerateArray().Select(p => (
            p.TryGetProperty("step", out var s) ? long.Parse(s.GetString()!, System.Globalization.CultureInfo.InvariantCulture) : 0L,
            p.TryGetProperty("value", out var v) ? ReadDouble(v) : 0.0)).ToList();
    }

    private static double ReadDouble(JsonElement value) => value.ValueKind == JsonValueKind.String
        ? value.GetString() switch { "NaN" => double.NaN, "Infinity" => double.PositiveInfinity, "-Infinity" => double.NegativeInfinity, var s => double.Parse(s!, System.Globalization.CultureInfo.InvariantCulture) }
        : value.GetDouble();

    /// <summary>A raw gRPC channel to the sandbox's agent (no SDK, no CLI).</summary>
    public static Grpc.Net.Client.GrpcChannel Channel(MeeshkanSandbox sandbox, int maxMessageBytes = 256 * 1024 * 1024) =>
        AgentChannel.ForSocket(sandbox.SocketPath, maxMessageBytes);

    /// <summary>The agent answers a status call.</summary>
    public static AgentStatus Healthy(Grpc.Net.Client.GrpcChannel channel) =>
        new JobService.JobServiceClient(channel).GetStatus(new GetStatusRequest(), deadline: DateTime.UtcNow.AddSeconds(60));

    /// <summary>Text shown to a user must be one line, with no stack trace.</summary>
    public static void AssertOneLine(string message, string what)
    {
        var trimmed = message.Trim();
        Assert.That(trimmed, Is.Not.Empty, $"{what}: says what went wrong");
        Assert.That(trimmed, Does.Not.Contain("\n"), $"{what}: one line");
        Assert.That(trimmed, Does.Not.Contain("   at "), $"{what}: no stack trace");
    }

    public static RpcException Throws(Action call)
    {
        try
        {
            call();
        }
        catch (RpcException e)
        {
            return e;
        }
        throw new AssertionException("the call was accepted");
    }
}
