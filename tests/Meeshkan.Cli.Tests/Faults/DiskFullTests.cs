using System.Diagnostics;
using Meeshkan.Testing;

namespace Meeshkan.Cli.Tests.Faults;

/// <summary>The data folder's disk fills up while a job runs (issue 14.9): a small tmpfs as MEESHKAN_HOME.</summary>
[TestFixture]
public sealed class DiskFullTests
{
    [Test]
    public void A_full_disk_keeps_the_agent_up_refuses_submit_clearly_and_records_the_running_jobs_end_once_there_is_room()
    {
        var mount = Directory.CreateTempSubdirectory("mkfull-").FullName;
        if (Command("mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", mount) != 0)
        {
            Assert.Inconclusive("mounting a small tmpfs needs root (CI runs as root)");
        }
        try
        {
            using var sandbox = new MeeshkanSandbox(home: Path.Combine(mount, "home"));
            sandbox.Start();
            var release = Path.Combine(sandbox.WorkDir, "release");
            sandbox.WriteFile("hold.sh", $"echo started; while [ ! -f {release} ]; do sleep 0.05; done; exit 3\n");
            var running = sandbox.Submit("hold.sh");
            var pid = sandbox.WaitForState(running, TimeSpan.FromSeconds(30), "RUNNING").Pid;

            var fill = Path.Combine(mount, "fill");
            Fill(fill);
            FaultCounts.Fault();
            var submit = sandbox.Run("submit", "echo", "refused");
            Assert.That(submit.ExitCode, Is.Not.Zero, submit.ToString());
            Assert.That(submit.Stderr, Does.Contain("disk").And.Contain("is full").And.Contain("free some space"), submit.ToString());
            FaultKit.AssertOneLine(submit.Stderr, "submit");

            // The job ends while the disk is full: the agent stays up and keeps its end.
            File.WriteAllText(release, "");
            Wait.For(() => !Processes.Alive(pid), "the job's process ends", 30);
            Thread.Sleep(500);
            Assert.That(sandbox.Ok("status"), Does.Contain("is running"), "the agent stays up");

            File.Delete(fill);
            var ended = sandbox.WaitForEnd(running, 30);
            Assert.That((ended.State, ended.ExitCode), Is.EqualTo(("FAILED", (int?)3)), "its true end, recorded once there is room");
            Assert.That(sandbox.Ok("logs", running.ToString()), Does.Contain("started"));
            var next = sandbox.Submit("echo", "after");
            Assert.That(sandbox.WaitForEnd(next).State, Is.EqualTo("FINISHED"), "jobs start again");
            Assert.That(sandbox.Jobs().Select(j => j.Number), Is.EquivalentTo(new[] { running, next }), "the refused submit queued nothing");
            FaultCounts.Checked(5);
            sandbox.Ok("stop");
        }
        finally
        {
            Command("umount", "-l", mount);
            Directory.Delete(mount, recursive: true);
        }
    }

    /// <summary>Writes zeros until the file system says it is full.</summary>
    private static void Fill(string path)
    {
        var block = new byte[64 * 1024];
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1);
        try
        {
            while (true)
            {
                file.Write(block);
                file.Flush();
            }
        }
        catch (IOException)
        {
        }
        block = new byte[4096];
        try
        {
            while (true)
            {
                file.Write(block);
                file.Flush();
            }
        }
        catch (IOException)
        {
        }
    }

    private static int Command(string program, params string[] args)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        using var process = Process.Start(start)!;
        process.WaitForExit();
        return process.ExitCode;
    }
}
