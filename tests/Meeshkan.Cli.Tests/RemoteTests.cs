using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Grpc.Core;
using Grpc.Net.Client;
using Meeshkan.Testing;
using Meeshkan.V1;

namespace Meeshkan.Cli.Tests;

/// <summary>
/// A "machine" runs an agent that also listens on loopback TCP with TLS; a "laptop" (another data folder, no agent)
/// drives it with `meeshkan --remote NAME ...`, as a user would from another computer.
/// </summary>
[TestFixture]
public sealed class RemoteTests() : SandboxFixture(AgentPer.Test)
{
    private MeeshkanSandbox _laptop = null!;
    private int _port;
    private string _token = null!;
    private string _fingerprint = null!;

    /// <summary>The "machine": its agent listens.</summary>
    private MeeshkanSandbox Machine => Sandbox;

    protected override void StartAgent(MeeshkanSandbox sandbox) => _port = sandbox.StartListening();

    [SetUp]
    public void AddRemote()
    {
        _laptop = new MeeshkanSandbox();
        (_token, _fingerprint) = ReadToken(Machine);
        _laptop.Ok("remote", "add", "gpu", $"https://127.0.0.1:{_port}", "--token", _token, "--fingerprint", _fingerprint);
    }

    [TearDown]
    public void RemoveLaptop() => _laptop.Dispose();

    [Test]
    public void The_token_and_certificate_are_made_on_first_use_and_readable_by_their_owner_only()
    {
        Assert.That(_token, Has.Length.EqualTo(43), "32 random bytes, base64url");
        Assert.That(_fingerprint, Does.Match("^([0-9A-F]{2}:){31}[0-9A-F]{2}$"));
        foreach (var file in new[] { "remote.token", "remote.pfx" })
        {
            Assert.That(File.GetUnixFileMode(Path.Combine(Machine.Home, file)), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite), file);
        }
        Assert.That(File.GetUnixFileMode(Path.Combine(_laptop.Home, "config")), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));
        Assert.That(ReadToken(Machine), Is.EqualTo((_token, _fingerprint)), "shown again, not made again");
        var listed = _laptop.Ok("remote", "list");
        Assert.That(listed, Does.Contain("gpu").And.Contain($"https://127.0.0.1:{_port}").And.Not.Contain(_token));
    }

    [Test]
    public void A_remote_cli_lists_follows_logs_and_cancels_a_running_job_with_its_process_tree()
    {
        var pids = Path.Combine(Machine.WorkDir, "pids");
        Machine.WriteFile("tree.sh", $"""
            for i in 1 2 3; do echo "line $i"; sleep 0.2; done
            sleep 300 & echo $! >> {pids}; sleep 300 & echo $! >> {pids}; echo $$ >> {pids}; wait
            """);
        var submitted = _laptop.Ok("--remote", "gpu", "submit", "--cwd", Machine.WorkDir, "tree.sh");
        Assert.That(submitted, Does.StartWith("Job 1 submitted"));
        Machine.WaitForState(1, TimeSpan.FromSeconds(20), "RUNNING");
        Wait.For(() => File.Exists(pids) && File.ReadAllLines(pids).Length == 3, "the job and its two children", 30);
        var tree = File.ReadAllLines(pids).Select(int.Parse).ToArray();

        var list = _laptop.Run("--remote", "gpu", "list");
        Assert.That(list.ExitCode, Is.Zero, list.ToString());
        Assert.That(list.Stdout, Does.Contain("tree.sh").And.Contain("RUNNING"));

        using var follow = StartFollowing(_laptop, "--remote", "gpu", "logs", "-f", "1");
        var canceled = _laptop.Run("--remote", "gpu", "cancel", "-y", "1");
        Assert.That(canceled.ExitCode, Is.Zero, canceled.ToString());
        Assert.That(canceled.Stdout, Does.Contain("canceled (was RUNNING)"));
        Assert.That(follow.WaitForExit(30_000), Is.True, "logs -f ends when the job ends");
        Assert.That(follow.StandardOutput.ReadToEnd(), Is.EqualTo("line 1\nline 2\nline 3\n"));
        Assert.That(follow.ExitCode, Is.Zero);
        Wait.For(() => !tree.Any(Processes.Alive), "the whole tree gone", 30);
        Assert.That(tree.Where(Processes.Alive), Is.Empty, "every process of the job is gone");
        Assert.That(Machine.Job(1)!.State, Is.EqualTo("CANCELED"));
    }

    [Test]
    public void A_remote_submit_uses_the_agents_environment_and_home_folder_not_the_laptops()
    {
        _laptop.Environment["LAPTOP_SECRET"] = "from-the-laptop";
        _laptop.Environment["MEESHKAN_REMOTE"] = "gpu";
        var submitted = _laptop.Ok("submit", "--", "/bin/sh", "-c", "pwd; echo \"secret=$LAPTOP_SECRET\"");
        Assert.That(submitted, Does.StartWith("Job 1 submitted"), "MEESHKAN_REMOTE chooses the remote too");
        Machine.WaitForEnd(1);
        var logs = _laptop.Ok("logs", "1");
        Assert.That(logs, Is.EqualTo($"{Environment.GetFolderPath(Environment.SpecialFolder.UserProfile)}\nsecret=\n"));
        Assert.That(_laptop.Ok("report", "1"), Does.Contain("no scalars reported yet"));
        Assert.That(_laptop.Run("notifications", "1").ExitCode, Is.Zero);
        Assert.That(_laptop.Ok("status"), Does.Contain("Meeshkan agent is running"));
    }

    [Test]
    public void Commands_about_this_machine_are_refused_with_a_remote()
    {
        foreach (var command in new[] { "start", "stop", "setup" })
        {
            var result = _laptop.Run("--remote", "gpu", command);
            Assert.That(result.ExitCode, Is.EqualTo(2), result.ToString());
            Assert.That(result.Stderr, Does.Contain("works on this machine only"));
        }
        var unknown = _laptop.Run("--remote", "nowhere", "list");
        Assert.That(unknown.ExitCode, Is.EqualTo(2));
        Assert.That(unknown.Stderr, Does.Contain("no remote named 'nowhere'"));
    }

    [Test]
    public void A_wrong_token_is_refused_and_rotation_applies_without_a_restart()
    {
        _laptop.Ok("remote", "add", "bad", $"https://127.0.0.1:{_port}", "--token", _token[..^2] + "xx", "--fingerprint", _fingerprint);
        var refused = _laptop.Run("--remote", "bad", "list");
        Assert.That(refused.ExitCode, Is.Not.Zero);
        Assert.That(refused.Stderr, Does.Contain("refused the token"));

        var rotated = Machine.Ok("remote", "rotate");
        var newToken = rotated.Split('\n')[0].Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
        Assert.That(newToken, Is.Not.EqualTo(_token));
        var old = _laptop.Run("--remote", "gpu", "list");
        Assert.That(old.Stderr, Does.Contain("refused the token"), "the old token stops working at once");
        _laptop.Ok("remote", "add", "gpu", $"https://127.0.0.1:{_port}", "--token", newToken, "--fingerprint", _fingerprint);
        Assert.That(_laptop.Run("--remote", "gpu", "list").ExitCode, Is.Zero, "the new token works without a restart");
        Assert.That(Machine.Run("list").ExitCode, Is.Zero, "the Unix socket needs no token");

        var log = File.ReadAllText(Path.Combine(Machine.Home, "logs", "agent.log"));
        Assert.That(log, Does.Contain("Refused remote call /meeshkan.v1.JobService/ListJobs from 127.0.0.1: wrong token"));
        Assert.That(log, Does.Not.Contain(_token).And.Not.Contain(newToken).And.Not.Contain(_token[..^2] + "xx"), "no token in any log line");
    }

    [Test]
    public async Task No_token_a_wrong_fingerprint_and_a_plaintext_client_are_refused()
    {
        var address = new Uri($"https://127.0.0.1:{_port}");
        using (var anonymous = AgentChannel.ForRemote(address, token: null, CertificateFingerprint.Parse(_fingerprint)!))
        {
            var e = Assert.ThrowsAsync<RpcException>(async () => await new JobService.JobServiceClient(anonymous).ListJobsAsync(new ListJobsRequest()));
            Assert.That(e!.StatusCode, Is.EqualTo(StatusCode.Unauthenticated));
            var stream = Assert.ThrowsAsync<RpcException>(async () =>
            {
                using var call = new JobService.JobServiceClient(anonymous).StreamLogs(new StreamLogsRequest { Identifier = "1" });
                await call.ResponseStream.MoveNext();
            });
            Assert.That(stream!.StatusCode, Is.EqualTo(StatusCode.Unauthenticated), "streaming calls are guarded too");
        }

        var wrongPin = new byte[32];
        var pinned = (string?)null;
        using (var impostor = AgentChannel.ForRemote(address, _token, wrongPin, presented => pinned = presented))
        {
            var e = Assert.ThrowsAsync<RpcException>(async () => await new JobService.JobServiceClient(impostor).ListJobsAsync(new ListJobsRequest()));
            Assert.That(e!.StatusCode, Is.AnyOf(StatusCode.Unavailable, StatusCode.Internal));
            Assert.That(pinned, Is.EqualTo(_fingerprint), "the client saw the real certificate and refused it");
        }
        _laptop.Ok("remote", "add", "pinned-wrong", $"https://127.0.0.1:{_port}", "--token", _token, "--fingerprint", new string('0', 64));
        var cli = _laptop.Run("--remote", "pinned-wrong", "list");
        Assert.That(cli.ExitCode, Is.Not.Zero);
        Assert.That(cli.Stderr, Does.Contain("refusing remote 'pinned-wrong'").And.Contain(_fingerprint));

        using (var plaintext = GrpcChannel.ForAddress($"http://127.0.0.1:{_port}"))
        {
            var e = Assert.ThrowsAsync<RpcException>(async () =>
                await new JobService.JobServiceClient(plaintext).ListJobsAsync(new ListJobsRequest(), deadline: DateTime.UtcNow.AddSeconds(15)));
            Assert.That(e!.StatusCode, Is.Not.EqualTo(StatusCode.OK));
        }
        using (var raw = new TcpClient())
        {
            await raw.ConnectAsync(IPAddress.Loopback, _port);
            var stream = raw.GetStream();
            await stream.WriteAsync("GET /meeshkan.v1.JobService/ListJobs HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray());
            var buffer = new byte[4096];
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            int read;
            try
            {
                read = await stream.ReadAsync(buffer, timeout.Token);
            }
            catch (IOException)
            {
                read = 0;
            }
            Assert.That(System.Text.Encoding.ASCII.GetString(buffer, 0, read), Does.Not.Contain("HTTP/1.1 200").And.Not.Contain("jobs"),
                "plain HTTP gets no answer from the TLS listener");
        }
        Assert.That(Machine.Run("list").ExitCode, Is.Zero, "the agent is unharmed");
        var log = File.ReadAllText(Path.Combine(Machine.Home, "logs", "agent.log"));
        Assert.That(log, Does.Contain(": no token (failure"));
        Assert.That(log, Does.Not.Contain(_token));
    }

    private static (string Token, string Fingerprint) ReadToken(MeeshkanSandbox machine)
    {
        var lines = machine.Ok("remote", "token").Split('\n');
        string Value(string key) => lines.First(l => l.StartsWith(key, StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
        return (Value("token"), Value("fingerprint"));
    }

    private static Process StartFollowing(MeeshkanSandbox sandbox, params string[] args)
    {
        var start = new ProcessStartInfo(MeeshkanSandbox.Executable)
        {
            WorkingDirectory = sandbox.WorkDir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        start.Environment["MEESHKAN_HOME"] = sandbox.Home;
        var process = Process.Start(start)!;
        process.ErrorDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        // Wait until the stream has begun, so the cancel below lands while following.
        Thread.Sleep(1500);
        return process;
    }
}
