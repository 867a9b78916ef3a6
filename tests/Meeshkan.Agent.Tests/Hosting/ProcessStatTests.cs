using System.Diagnostics;
using Meeshkan.Agent.Internal;

namespace Meeshkan.Agent.Tests.Hosting;

/// <summary>/proc/PID/stat as the agent reads it at every job's start and end (Native.Stat).</summary>
[TestFixture]
public sealed class ProcessStatTests
{
    [Test]
    public void A_process_whose_name_holds_spaces_and_parentheses_is_read_right()
    {
        var folder = Directory.CreateTempSubdirectory("mk-stat-").FullName;
        try
        {
            // The command name (field 2) is the program's file name: "a b) (c" must not shift the fields after it.
            var program = Path.Combine(folder, "a b) (c");
            File.Copy("/bin/sleep", program);
            File.SetUnixFileMode(program, UnixFileMode.UserRead | UnixFileMode.UserExecute);
            using var process = Process.Start(new ProcessStartInfo(program, "5"))!;
            try
            {
                var stat = Native.Stat(process.Id);
                Assert.That(stat, Is.Not.Null);
                Assert.That(stat!.Value.ParentPid, Is.EqualTo(Environment.ProcessId));
                Assert.That(stat.Value.State, Is.AnyOf('S', 'R'));
                Assert.That(stat.Value.StartTicks, Is.Positive);
                Assert.That(stat.Value.StartTicks, Is.EqualTo(Native.ProcessStartTicks(process.Id)));
                var own = Native.Stat(Environment.ProcessId)!.Value;
                Assert.That(stat.Value.StartTicks, Is.GreaterThanOrEqualTo(own.StartTicks), "it started after this test process");
            }
            finally
            {
                process.Kill();
                process.WaitForExit();
            }
            Assert.That(Native.Stat(process.Id), Is.Null, "a reaped process is gone");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Test]
    public void The_boot_ticks_around_a_start_bracket_the_start_time_proc_gives()
    {
        // The local executor takes a job's start tick from BootTicks read around its spawn when both readings agree.
        var agreed = 0;
        for (var i = 0; i < 20; i++)
        {
            var before = Native.BootTicks();
            using var process = Process.Start(new ProcessStartInfo("/bin/sleep", "5"))!;
            var after = Native.BootTicks();
            try
            {
                var ticks = Native.ProcessStartTicks(process.Id);
                Assert.That(ticks, Is.InRange(before, after), "/proc's start time lies between the readings");
                agreed += before == after ? 1 : 0;
            }
            finally
            {
                process.Kill();
                process.WaitForExit();
            }
        }
        Assert.That(agreed, Is.GreaterThan(0), "most starts fall within one tick");
    }

    [Test]
    public void A_folder_is_made_once_and_a_missing_parent_is_unknown()
    {
        var folder = Path.Combine(Path.GetTempPath(), "mk-folder-" + Guid.NewGuid().ToString("N"));
        try
        {
            Assert.That(Native.MakeFolder(folder), Is.True);
            Assert.That(Directory.Exists(folder), Is.True);
            Assert.That(Native.MakeFolder(folder), Is.False, "already there");
            Assert.That(Native.MakeFolder(Path.Combine(folder, "no", "such")), Is.Null);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Test]
    public void A_file_is_empty_or_not_and_a_missing_one_is_unknown()
    {
        Assert.That(Native.IsEmptyFile("/proc/self/stat"), Is.False);
        Assert.That(Native.IsEmptyFile("/dev/null"), Is.True);
        Assert.That(Native.IsEmptyFile("/nonexistent/file"), Is.Null);
    }
}
