using System.Text;
using Meeshkan.Testing;

namespace Meeshkan.Cli.Tests.Faults;

/// <summary>kill -9 of the agent and of a job's parent: no log byte lost, no status invented.</summary>
[TestFixture]
public sealed class CrashRecoveryTests
{
    [Test]
    public void Kill_9_of_the_agent_while_a_job_writes_loses_no_log_byte()
    {
        using var sandbox = new MeeshkanSandbox();
        sandbox.Start();
        var release = Path.Combine(sandbox.WorkDir, "release");
        // Writes steadily until released, then says how many lines it wrote.
        sandbox.WriteFile("writer.sh",
            $"i=0; while [ ! -f {release} ]; do echo \"line $i\"; if [ $((i % 100)) = 0 ]; then echo \"err $i\" >&2; sleep 0.02; fi; " +
            "i=$((i+1)); done; echo \"total $i\"\n");
        var number = sandbox.Submit("writer.sh");
        var queued = sandbox.Submit("echo", "after");
        var job = sandbox.WaitForState(number, TimeSpan.FromSeconds(60), "RUNNING");
        var stdoutPath = Path.Combine(job.OutputDirectory, "stdout");
        FaultKit.WaitFor(() => File.Exists(stdoutPath) && new FileInfo(stdoutPath).Length > 0, "the job writes");

        FaultKit.KillAgent(sandbox);
        Assert.That(FaultKit.Alive(job.Pid), Is.True, "the job outlives the agent");
        Thread.Sleep(500);
        sandbox.Start();
        FaultKit.KillAgent(sandbox);
        sandbox.Start();
        var size = new FileInfo(stdoutPath).Length;
        FaultKit.WaitFor(() => new FileInfo(stdoutPath).Length > size, "the job still writes");
        File.WriteAllText(release, "");

        var ended = sandbox.WaitForEnd(number, 300);
        Assert.That(ended.State, Is.EqualTo("FINISHED"));
        Assert.That(ended.ExitCode, Is.EqualTo(0));
        var logs = FaultKit.Shell(sandbox, $"\"$MK\" logs {number}");
        Assert.That(logs.ExitCode, Is.Zero);
        var text = Encoding.ASCII.GetString(logs.Stdout);
        var lines = int.Parse(text[(text.LastIndexOf("total ", StringComparison.Ordinal) + 6)..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.That(lines, Is.GreaterThan(100));
        var expectedOut = new StringBuilder();
        var expectedErr = new StringBuilder();
        for (var i = 0; i < lines; i++)
        {
            expectedOut.Append("line ").Append(i).Append('\n');
            if (i % 100 == 0)
            {
                expectedErr.Append("err ").Append(i).Append('\n');
            }
        }
        expectedOut.Append("total ").Append(lines).Append('\n');
        CompareBytes(logs.Stdout, Encoding.ASCII.GetBytes(expectedOut.ToString()), "stdout");
        var stderr = Encoding.ASCII.GetString(logs.Stderr);
        var expectedErrText = expectedErr.ToString();
        Assert.That(stderr, Does.StartWith(expectedErrText), "stderr, byte-exact before the CLI's closing line");
        FaultCounts.Checked(Encoding.ASCII.GetByteCount(expectedErrText));
        Assert.That(sandbox.WaitForEnd(queued, 120).State, Is.EqualTo("FINISHED"), "the queued job ran after");
        FaultCounts.Checked(2);
    }

    [Test]
    public void A_job_whose_status_cannot_be_known_is_marked_failed_with_the_reason([Values] bool killAgent)
    {
        using var sandbox = new MeeshkanSandbox();
        sandbox.Start();
        var number = sandbox.Submit("sleep", "600");
        var job = sandbox.WaitForState(number, TimeSpan.FromSeconds(60), "RUNNING");
        var keeper = Processes.ParentOf(sandbox.AgentPid!.Value);
        if (killAgent)
        {
            FaultKit.KillAgent(sandbox);
        }
        else
        {
            FaultKit.Stop(sandbox);
        }
        // The agent's keeper, which would record the job's end, dies before the job: nothing is left to record it.
        using (var process = System.Diagnostics.Process.GetProcessById(keeper))
        {
            process.Kill();
            process.WaitForExit(30_000);
        }
        KillGroup(job.Pid);
        FaultCounts.Fault();
        FaultKit.WaitFor(() => !FaultKit.Alive(job.Pid), "the job ends");
        sandbox.Start();

        var ended = sandbox.WaitForEnd(number, 120);
        Assert.That(ended.State, Is.EqualTo("FAILED"));
        Assert.That(ended.ExitCode, Is.Null, "no exit code is made up");
        Assert.That(ended.FailureReason, Does.Contain("no agent was watching").And.Contain("exit status"));
        var list = sandbox.Ok("list");
        Assert.That(list, Does.Contain("FAILED"));
        FaultCounts.Checked();
    }

    [Test]
    public void A_job_killed_by_a_signal_while_no_agent_runs_records_the_signal()
    {
        using var sandbox = new MeeshkanSandbox();
        sandbox.Start();
        var number = sandbox.Submit("sleep", "600");
        var job = sandbox.WaitForState(number, TimeSpan.FromSeconds(60), "RUNNING");
        FaultKit.KillAgent(sandbox);
        // The job's own process is killed; the agent's keeper records how it ended.
        System.Diagnostics.Process.GetProcessById(job.Pid).Kill();
        FaultCounts.Fault();
        FaultKit.WaitFor(() => !FaultKit.Alive(job.Pid), "the job ends");
        sandbox.Start();
        var ended = sandbox.WaitForEnd(number, 120);
        Assert.That(ended.State, Is.EqualTo("FAILED"));
        Assert.That(ended.ExitCode, Is.EqualTo(137));
        Assert.That(ended.FailureReason, Does.Contain("signal 9"));
        FaultCounts.Checked();
    }

    internal static void CompareBytes(byte[] actual, byte[] expected, string what)
    {
        var same = actual.AsSpan().CommonPrefixLength(expected);
        var lost = Math.Max(0, expected.Length - same);
        FaultCounts.Checked(expected.Length);
        FaultCounts.Lost(lost);
        Assert.That(actual.Length, Is.EqualTo(expected.Length), $"{what}: length (first difference at byte {same})");
        Assert.That(same, Is.EqualTo(expected.Length), $"{what}: first difference at byte {same}");
    }

    private static void KillGroup(int pid)
    {
        using var kill = System.Diagnostics.Process.Start("kill", ["-9", "--", $"-{pid}"]);
        kill.WaitForExit();
    }
}
