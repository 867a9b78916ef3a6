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
