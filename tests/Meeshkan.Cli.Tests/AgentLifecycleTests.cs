using System.Diagnostics;
using System.Net.Sockets;
using Meeshkan.Testing;

namespace Meeshkan.Cli.Tests;

[TestFixture]
public sealed class AgentLifecycleTests
{
    [Test]
    public void Start_status_stop()
    {
        using var sandbox = new MeeshkanSandbox();
        var started = sandbox.Run("start");
        Assert.That(started.ExitCode, Is.Zero, started.ToString());
        Assert.That(started.Stdout, Does.Contain("agent started"));

        var status = sandbox.Ok("status");
        Assert.That(status, Does.Contain("is running").And.Contain(sandbox.SocketPath).And.Contain("/usr/bin/python3"));
        Assert.That(status, Does.Contain("0 queued, 0 running"));

        Assert.That(sandbox.Ok("stop"), Does.Contain("stopped"));
        var after = sandbox.Run("status");
        Assert.That(after.ExitCode, Is.Not.Zero);
        Assert.That(after.Stdout, Does.Contain("not running"));
    }

    [Test]
    public void Data_folder_is_private_and_laid_out()
    {
        using var sandbox = new MeeshkanSandbox();
        sandbox.Start();
        const UnixFileMode ownerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        Assert.That(File.GetUnixFileMode(sandbox.Home), Is.EqualTo(ownerOnly));
        Assert.That(File.GetUnixFileMode(sandbox.SocketPath), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));
        Assert.That(File.GetUnixFileMode(Path.Combine(sandbox.Home, "meeshkan.db")), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));
        Assert.That(File.ReadAllText(Path.Combine(sandbox.Home, "agent.pid")).Trim(), Is.EqualTo(sandbox.AgentPid.ToString()));
        Assert.That(Directory.Exists(Path.Combine(sandbox.Home, "logs")), Is.True);
        Assert.That(File.Exists(Path.Combine(sandbox.Home, "logs", "agent.log")), Is.True);
    }

    [Test]
    public void A_second_start_says_the_agent_is_already_running()
    {
        using var sandbox = new MeeshkanSandbox();
        sandbox.Start();
        var pid = sandbox.AgentPid;
        var again = sandbox.Run("start");
        Assert.That(again.ExitCode, Is.Zero, again.ToString());
        Assert.That(again.Stdout, Does.Contain("already running"));
        Assert.That(sandbox.AgentPid, Is.EqualTo(pid));
    }

    [Test]
    public void Two_starts_at_once_leave_exactly_one_agent()
    {
        using var sandbox = new MeeshkanSandbox();
        var first = Task.Run(() => sandbox.Run("start"));
        var second = Task.Run(() => sandbox.Run("start"));
        var results = new[] { first.Result, second.Result };
        Assert.That(results.Select(r => r.ExitCode), Is.All.Zero, string.Join('\n', results.Select(r => r.ToString())));
        var agents = Process.GetProcesses().Count(p => IsAgentFor(p, sandbox.Home));
        Assert.That(agents, Is.EqualTo(1));
    }

    [Test]
    public void Stale_socket_and_pid_file_after_kill_9_are_cleaned_up()
    {
        using var sandbox = new MeeshkanSandbox();
        sandbox.Start();
        var number = sandbox.Submit("true");
        sandbox.WaitForEnd(number);
        Process.GetProcessById(sandbox.AgentPid!.Value).Kill();
        Thread.Sleep(200);
        Assert.That(File.Exists(sandbox.SocketPath), Is.True, "kill -9 leaves the socket behind");

        var restarted = sandbox.Run("start");
        Assert.That(restarted.ExitCode, Is.Zero, restarted.ToString());
        Assert.That(restarted.Stdout, Does.Contain("agent started"));
        Assert.That(sandbox.Job(number)!.State, Is.EqualTo("FINISHED"));
    }

    [Test]
    public void Commands_without_an_agent_say_how_to_start_it()
    {
        using var sandbox = new MeeshkanSandbox();
        foreach (var command in new[] { new[] { "list" }, ["logs", "1"], ["submit", "true"], ["report", "1"], ["cancel", "-y", "1"] })
        {
            var result = sandbox.Run(command);
            Assert.That(result.ExitCode, Is.Not.Zero, result.ToString());
            Assert.That(result.Stderr, Does.Contain("meeshkan start"), string.Join(' ', command));
        }
    }

    [Test]
    public void Job_numbers_keep_growing_across_restarts()
    {
        using var sandbox = new MeeshkanSandbox();
        sandbox.Start();
        var first = sandbox.Submit("true");
        var second = sandbox.Submit("true");
        sandbox.WaitForEnd(second);
        sandbox.Ok("stop");
        sandbox.Start();
        var third = sandbox.Submit("true");
        Assert.That((first, second, third), Is.EqualTo((1L, 2L, 3L)));
        sandbox.Ok("clear");
        sandbox.Ok("stop");
        sandbox.Start();
        Assert.That(sandbox.Submit("true"), Is.EqualTo(4L), "numbers are never reused, even after clear");
    }

    [Test]
    public void Version_and_help()
    {
        using var sandbox = new MeeshkanSandbox();
        var version = sandbox.Run("--version");
        Assert.That(version.ExitCode, Is.Zero);
        Assert.That(version.Stdout, Does.Match(@"\d+\.\d+\.\d+"));
        var help = sandbox.Run("help");
        Assert.That(help.ExitCode, Is.Zero);
        foreach (var command in new[] { "start", "stop", "status", "submit", "list", "logs", "cancel", "report", "notifications", "clear", "setup", "sorry" })
        {
            Assert.That(help.Stdout, Does.Contain(command));
        }
    }

    internal static bool IsAgentFor(Process process, string home)
    {
        try
        {
            var cmdline = File.ReadAllText($"/proc/{process.Id}/cmdline").Split('\0');
            var environ = File.ReadAllText($"/proc/{process.Id}/environ").Split('\0');
            return cmdline.Contains("agent") && cmdline.Any(a => a.EndsWith("meeshkan", StringComparison.Ordinal) || a.EndsWith("meeshkan.dll", StringComparison.Ordinal))
                && environ.Contains($"MEESHKAN_HOME={home}");
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }
}
