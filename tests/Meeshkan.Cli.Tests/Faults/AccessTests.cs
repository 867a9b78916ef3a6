using System.Text;
using Meeshkan.Testing;

namespace Meeshkan.Cli.Tests.Faults;

/// <summary>Only the user who owns the data folder can talk to the agent.</summary>
[TestFixture]
public sealed class AccessTests
{
    private const UnixFileMode OwnerReadWrite = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    [Test]
    public void The_data_folder_socket_database_and_config_are_readable_by_the_owner_only()
    {
        using var sandbox = new MeeshkanSandbox();
        // A folder that does not exist yet, made by `start` itself.
        Directory.Delete(sandbox.Home);
        sandbox.Ok("setup", "--python", "/usr/bin/python3");
        sandbox.Start();
        var number = sandbox.Submit("echo", "hi");
        sandbox.WaitForEnd(number);
        Assert.That(File.GetUnixFileMode(sandbox.Home), Is.EqualTo(OwnerReadWrite | UnixFileMode.UserExecute), "data folder 0700");
        Assert.That(File.GetUnixFileMode(sandbox.SocketPath), Is.EqualTo(OwnerReadWrite), "socket 0600");
        Assert.That(File.GetUnixFileMode(Path.Combine(sandbox.Home, "meeshkan.db")), Is.EqualTo(OwnerReadWrite), "database 0600");
        Assert.That(File.GetUnixFileMode(Path.Combine(sandbox.Home, "config")), Is.EqualTo(OwnerReadWrite), "config 0600");
        FaultCounts.Checked(4);
    }

    [Test]
    public void Another_local_user_is_refused()
    {
        if (Environment.UserName != "root")
        {
            Assert.Ignore("creating a second local user needs root (CI runs as root)");
        }
        using var sandbox = new MeeshkanSandbox();
        sandbox.Start();
        var number = sandbox.Submit("sleep", "600");
        sandbox.WaitForState(number, TimeSpan.FromSeconds(60), "RUNNING");
        var user = $"mkf{Environment.ProcessId % 100000}";
        Run("useradd", "--no-create-home", "--shell", "/bin/sh", user);
        // The build output may sit under a folder only root can enter (a private clone): give the other user
        // its own copy of the same `meeshkan`, as it would have its own install.
        var copy = Directory.CreateTempSubdirectory("mkcli-").FullName;
        Run("cp", "-r", Path.GetDirectoryName(MeeshkanSandbox.Executable)! + "/.", copy);
        Run("chmod", "-R", "a+rX", copy);
        var executable = Path.Combine(copy, Path.GetFileName(MeeshkanSandbox.Executable));
        FaultCounts.Fault();
        try
        {
            // Through the CLI: no job list, no cancel, a non-zero exit.
            foreach (var command in new[] { "list", "cancel -y 1", "status" })
            {
                var result = Run("runuser", ["-u", user, "--", "env", $"MEESHKAN_HOME={sandbox.Home}", executable, .. command.Split(' ')]);
                Assert.That(result.ExitCode, Is.Not.Zero, $"{command} as {user}: {result}");
                Assert.That(result.Stdout, Does.Not.Contain("sleep"), "no job is shown");
                FaultKit.AssertOneLine(result.Stderr, command);
                Assert.That(result.Stderr, Does.Contain("permission denied"), "said as it is, not as 'the agent is not running'");
                FaultCounts.BadInput();
            }
            // Straight to the socket: the folder (0700) stops it; and with the folder opened up, the socket (0600) does.
            Assert.That(ConnectAs(user, sandbox.SocketPath), Does.Contain("PermissionError"));
            File.SetUnixFileMode(sandbox.Home, File.GetUnixFileMode(sandbox.Home) | UnixFileMode.OtherExecute | UnixFileMode.OtherRead);
            FaultCounts.Fault();
            Assert.That(ConnectAs(user, sandbox.SocketPath), Does.Contain("PermissionError"));
            Assert.That(ReadAs(user, Path.Combine(sandbox.Home, "meeshkan.db")), Does.Contain("PermissionError"));
            var list = Run("runuser", "-u", user, "--", "env", $"MEESHKAN_HOME={sandbox.Home}", executable, "list");
            Assert.That(list.ExitCode, Is.Not.Zero, list.ToString());
            Assert.That(list.Stderr, Does.Contain($"permission denied on {sandbox.SocketPath}"));
            FaultCounts.Checked(3);
        }
        finally
        {
            File.SetUnixFileMode(sandbox.Home, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            Run("userdel", user);
            Directory.Delete(copy, recursive: true);
        }
        // The owner still can, and the job was not touched.
        Assert.That(FaultKit.Job(sandbox, number).State, Is.EqualTo("RUNNING"));
        FaultCounts.Checked();
    }

    [Test]
    public void Logs_the_agent_log_and_the_sorry_bundle_are_private_and_no_inherited_descriptor_reaches_the_agent_or_a_job()
    {
        using var sandbox = new MeeshkanSandbox();
        Directory.Delete(sandbox.Home);
        var held = Path.Combine(sandbox.WorkDir, "held-open");
        // As a user's shell would hand it over: `meeshkan start 7>file`.
        FaultCounts.Fault();
        var start = FaultKit.Shell(sandbox, $"\"$MK\" start 7>'{held}'");
        Assert.That(start.ExitCode, Is.Zero, Encoding.UTF8.GetString(start.Stderr));
        var number = sandbox.Submit("/bin/sh", "-c", "ls /proc/$$/fd");
        sandbox.WaitForEnd(number);

        var agentFds = Directory.GetFileSystemEntries($"/proc/{sandbox.AgentPid}/fd").Select(fd => new FileInfo(fd).LinkTarget).ToList();
        Assert.That(agentFds, Has.None.EqualTo(held), "the agent closed the descriptor it inherited");
        Assert.That(sandbox.Ok("logs", number.ToString()).Split('\n', StringSplitOptions.RemoveEmptyEntries), Is.EquivalentTo(new[] { "0", "1", "2" }),
            "a job gets stdin, stdout and stderr only");
        Assert.That(File.GetUnixFileMode(Path.Combine(sandbox.Home, "logs")), Is.EqualTo(OwnerReadWrite | UnixFileMode.UserExecute), "logs/ 0700");
        Assert.That(File.GetUnixFileMode(Path.Combine(sandbox.Home, "logs", "agent.log")), Is.EqualTo(OwnerReadWrite), "agent.log 0600");
        var bundle = sandbox.Ok("sorry").Trim();
        Assert.That(File.GetUnixFileMode(bundle), Is.EqualTo(OwnerReadWrite), "the sorry bundle 0600");
        FaultCounts.Checked(5);
    }

    [Test]
    public void A_data_folder_or_a_file_in_it_that_another_user_owns_or_can_write_is_refused()
    {
        if (Environment.UserName != "root")
        {
            Assert.Ignore("creating a second local user needs root (CI runs as root)");
        }
        using var sandbox = new MeeshkanSandbox();
        var user = $"mkd{Environment.ProcessId % 100000}";
        Run("useradd", "--no-create-home", "--shell", "/bin/sh", user);
        var shared = Directory.CreateTempSubdirectory("mkt").FullName;
        File.SetUnixFileMode(shared, (UnixFileMode)0b1_111_111_111); // like /tmp: 1777
        try
        {
            // The other user's trap: a folder open to all, with a logs/ folder open to all.
            var trap = Path.Combine(shared, "trap");
            Run("runuser", "-u", user, "--", "mkdir", "-m", "777", trap, Path.Combine(trap, "logs"));
            Refused(sandbox, trap, "belongs to another user");
            Assert.That(File.Exists(Path.Combine(trap, "logs", "agent.log")), Is.False, "nothing was written into it");
            Assert.That(Directory.GetFileSystemEntries(trap), Has.Length.EqualTo(1), "nothing was made in it");

            // A folder of one's own, but open for writing, or with something in it another user owns or can write.
            var mine = sandbox.Home;
            File.SetUnixFileMode(mine, (UnixFileMode)0b111_111_111);
            Refused(sandbox, mine, "writable by others");
            File.SetUnixFileMode(mine, (UnixFileMode)0b111_000_000);
            var config = Path.Combine(mine, "config");
            File.WriteAllText(config, "{}");
            Run("chown", user, config);
            Refused(sandbox, mine, $"{config} belongs to another user");
            Run("chown", "root", config);
            Directory.CreateDirectory(Path.Combine(mine, "logs"));
            File.SetUnixFileMode(Path.Combine(mine, "logs"), (UnixFileMode)0b111_111_101);
            Refused(sandbox, mine, "logs is writable by its group");
            File.SetUnixFileMode(Path.Combine(mine, "logs"), (UnixFileMode)0b111_101_101);

            // Put right, the same folder works (and is made private).
            sandbox.Start();
            Assert.That(sandbox.Ok("status"), Does.Contain("is running"));
            Assert.That(File.GetUnixFileMode(Path.Combine(mine, "logs")), Is.EqualTo(OwnerReadWrite | UnixFileMode.UserExecute));
            FaultCounts.Checked(2);
        }
        finally
        {
            Run("userdel", user);
            Run("rm", "-rf", shared);
        }
    }

    /// <summary>`start` on <paramref name="home"/> fails with one line containing <paramref name="reason"/> and leaves no agent.</summary>
    private static void Refused(MeeshkanSandbox sandbox, string home, string reason)
    {
        FaultCounts.Fault();
        var start = FaultKit.Shell(sandbox, "\"$MK\" start", 120, new Dictionary<string, string> { ["MEESHKAN_HOME"] = home });
        var stderr = Encoding.UTF8.GetString(start.Stderr);
        Assert.That(start.ExitCode, Is.Not.Zero, stderr);
        Assert.That(stderr, Does.Contain(reason), stderr);
        FaultKit.AssertOneLine(stderr, "start");
        Assert.That(File.Exists(Path.Combine(home, "agent.pid")), Is.False, "no agent runs there");
        FaultCounts.Checked();
    }

    private static string ConnectAs(string user, string socket) =>
        Run("runuser", "-u", user, "--", "/usr/bin/python3", "-c",
            "import socket,sys\ns=socket.socket(socket.AF_UNIX)\ntry:\n s.connect(sys.argv[1]); print('connected')\nexcept OSError as e: print(type(e).__name__, e)",
            socket).Stdout;

    private static string ReadAs(string user, string file) =>
        Run("runuser", "-u", user, "--", "/usr/bin/python3", "-c",
            "import sys\ntry:\n open(sys.argv[1],'rb').read(1); print('read')\nexcept OSError as e: print(type(e).__name__, e)", file).Stdout;

    private static CliResult Run(string program, params string[] args) =>
        MeeshkanSandbox.RunProgram(program, args, "/", null, TimeSpan.FromSeconds(120));
}
