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
    public void A_file_is_empty_or_not_and_a_missing_one_is_unknown()
    {
        Assert.That(Native.IsEmptyFile("/proc/self/stat"), Is.False);
        Assert.That(Native.IsEmptyFile("/dev/null"), Is.True);
        Assert.That(Native.IsEmptyFile("/nonexistent/file"), Is.Null);
    }
}
