using System.Globalization;
using Meeshkan.Cli.Tests.Faults;
using Meeshkan.Testing;

namespace Meeshkan.Cli.Tests;

/// <summary>`submit --scalars-from-output` / `--scalar-pattern`: a program in any language prints its metrics, and they
/// become the job's scalars, while its log stays byte for byte what it printed.</summary>
[TestFixture]
public sealed class OutputScalarsTests() : SandboxFixture(AgentPer.Test)
{
    [Test]
    public void A_bash_script_that_prints_metrics_gets_scalars_a_chart_and_tqdm_progress_and_its_log_unchanged()
    {
        Sandbox.WriteFile("train.sh", """
            for i in $(seq 0 19); do
              echo "epoch $i loss: 0.$((99 - i)) acc=0.$((50 + i))"
            done
            echo "val_loss: nan (step 7)" >&2
            printf ' 50%%|#####     | 5/10 [00:05<00:05, 1.00it/s]\r'
            printf '100%%|##########| 10/10 [00:10<00:00, 1.00it/s]\n'
            echo "done"
            """);
        var number = Sandbox.Submit("--scalars-from-output", "train.sh");
        var job = Sandbox.WaitForEnd(number);
        Assert.That(job.State, Is.EqualTo("FINISHED"));
        var id = number.ToString(CultureInfo.InvariantCulture);
        // Read to the end before the end is recorded: no waiting once the job has ended.
        var scalars = Sandbox.Scalars(number);
        Assert.That(scalars["loss"], Is.EqualTo((Value: 0.80, Step: 19L, Count: 20L)));
        Assert.That(scalars["acc"], Is.EqualTo((Value: 0.69, Step: 19L, Count: 20L)));
        Assert.That(double.IsNaN(scalars["val_loss"].Value) && scalars["val_loss"].Step == 7, "nan at the step the line names");
        Assert.That(scalars["progress"], Is.EqualTo((Value: 100.0, Step: 1L, Count: 2L)), "both tqdm redraws");
        Assert.That(scalars["eta seconds"].Value, Is.Zero);
        Assert.That(FaultKit.History(Sandbox, number, "loss").Select(p => p.Value), Is.EqualTo(Enumerable.Range(0, 20).Select(i => (99 - i) / 100.0)));

        var printed = File.ReadAllBytes(Path.Combine(job.OutputDirectory, "stdout"));
        Assert.That(System.Text.Encoding.ASCII.GetString(printed), Does.Contain(" 50%|#####     | 5/10 [00:05<00:05, 1.00it/s]\r100%|"), "the log keeps every byte, \\r too");
        var chart = Path.Combine(Sandbox.WorkDir, "loss.png");
        Sandbox.Ok("report", id, "--plot", chart);
        Assert.That(new FileInfo(chart).Length, Is.GreaterThan(1000), "a chart of the printed metrics");
    }

    [Test]
    public void A_pattern_of_the_users_own_reads_a_format_of_its_own()
    {
        Sandbox.WriteFile("custom.sh", """
            for i in 1 2 3; do echo "[iter $i] error is $i.5 (loss: 9)"; done
            """);
        var number = Sandbox.Submit("--scalar-pattern", @"\[iter (?<step>\d+)\] (?<name>\w+) is (?<value>[0-9.]+)", "custom.sh");
        Assert.That(Sandbox.WaitForEnd(number).State, Is.EqualTo("FINISHED"));
        var scalars = Sandbox.Scalars(number);
        Assert.That(scalars["error"], Is.EqualTo((Value: 3.5, Step: 3L, Count: 3L)));
        Assert.That(scalars.ContainsKey("loss"), Is.False, "the user's pattern replaces the default ones");
    }

    [TestCase("(?<value>[0-9", "--scalar-pattern does not compile: ")]
    [TestCase(@"(?<name>\w+)=(\d+)", "--scalar-pattern needs a named group `value`")]
    public void A_bad_pattern_is_a_usage_error_and_nothing_is_queued(string pattern, string message)
    {
        Sandbox.WriteFile("x.sh", "echo x\n");
        var result = Sandbox.Run("submit", "--scalar-pattern", pattern, "x.sh");
        Assert.That(result.ExitCode, Is.EqualTo(2), result.ToString());
        Assert.That(result.Stderr, Does.Contain(message));
        Assert.That(result.Stderr.Trim().Split('\n'), Has.Length.EqualTo(1), result.ToString());
        Assert.That(Sandbox.Jobs(), Is.Empty);
    }

    [Test]
    public void A_100_MB_line_and_binary_bytes_are_parsed_with_flat_memory()
    {
        Sandbox.WriteFile("huge.sh", """
            head -c 100000000 /dev/zero | tr '\0' 'x'
            printf '\nloss: 1.5\n'
            head -c 3000000 /dev/urandom
            printf '\nloss: 0.5\n'
            """);
        var number = Sandbox.Submit("--scalars-from-output", "huge.sh");
        Assert.That(Sandbox.WaitForEnd(number, 120).State, Is.EqualTo("FINISHED"));
        Assert.That(FaultKit.History(Sandbox, number, "loss").Select(p => p.Value), Is.EqualTo(new[] { 1.5, 0.5 }));
        var agent = System.Diagnostics.Process.GetProcessById(Sandbox.AgentPid!.Value);
        Assert.That(agent.PeakWorkingSet64, Is.LessThan(400L * 1024 * 1024), "a 100 MB line is never held in memory");
        Assert.That(new FileInfo(Path.Combine(Sandbox.Home, "jobs", number.ToString(CultureInfo.InvariantCulture), "stdout")).Length,
            Is.GreaterThan(103_000_000), "the log keeps every byte");
    }

    [Test]
    public void Reading_goes_on_across_stop_and_start_without_losing_or_repeating_a_line()
    {
        var half = Path.Combine(Sandbox.WorkDir, "half");
        var printed = Path.Combine(Sandbox.WorkDir, "printed");
        var release1 = Path.Combine(Sandbox.WorkDir, "release1");
        var release2 = Path.Combine(Sandbox.WorkDir, "release2");
        // 1-50 while the agent runs, 51-100 while it is stopped, 101-150 after it started again, and a last line
        // without a newline; the job waits for files the test creates, so no step races the agent's stop or start.
        Sandbox.WriteFile("steps.sh", $$"""
            for i in $(seq 1 50); do echo "loss: $i"; done
            touch '{{half}}'
            while [ ! -e '{{release1}}' ]; do sleep 0.02; done
            for i in $(seq 51 100); do echo "loss: $i"; done
            touch '{{printed}}'
            while [ ! -e '{{release2}}' ]; do sleep 0.02; done
            for i in $(seq 101 149); do echo "loss: $i"; done
            printf 'loss: 150'
            """);
        var number = Sandbox.Submit("--scalars-from-output", "steps.sh");
        FaultKit.WaitFor(() => File.Exists(half), "the first 50 lines");
        FaultKit.WaitFor(() => Sandbox.Scalars(number).TryGetValue("loss", out var loss) && loss.Count == 50, "the first 50 scalars", 60);
        Sandbox.Ok("stop");
        File.WriteAllText(release1, "");
        FaultKit.WaitFor(() => File.Exists(printed), "lines 51-100 printed while no agent runs");
        Sandbox.Start();
        File.WriteAllText(release2, "");
        Assert.That(Sandbox.WaitForEnd(number).State, Is.EqualTo("FINISHED"));
        Assert.That(FaultKit.History(Sandbox, number, "loss").Select(p => p.Value), Is.EqualTo(Enumerable.Range(1, 150).Select(i => (double)i)));

        // A later agent reads nothing again.
        Sandbox.Ok("stop");
        Sandbox.Start();
        Assert.That(Sandbox.Scalars(number)["loss"].Count, Is.EqualTo(150));
    }

    [Test]
    public void A_job_that_ends_while_no_agent_runs_has_its_last_lines_read_when_the_next_agent_records_its_end()
    {
        var release = Path.Combine(Sandbox.WorkDir, "release");
        var ready = Path.Combine(Sandbox.WorkDir, "ready");
        Sandbox.WriteFile("late.sh", $$"""
            echo "acc=0.5"
            touch '{{ready}}'
            while [ ! -e '{{release}}' ]; do sleep 0.02; done
            echo "acc=0.75"
            """);
        var number = Sandbox.Submit("--scalars-from-output", "late.sh");
        var pid = Sandbox.WaitForState(number, TimeSpan.FromSeconds(30), "RUNNING").Pid;
        FaultKit.WaitFor(() => File.Exists(ready), "the first line");
        FaultKit.WaitFor(() => Sandbox.Scalars(number).ContainsKey("acc"), "the first scalar", 60);
        Sandbox.Ok("stop");
        File.WriteAllText(release, "");
        FaultKit.WaitFor(() => !FaultKit.Alive(pid), "the job to exit while no agent runs");
        Sandbox.Start();
        Assert.That(Sandbox.WaitForEnd(number).State, Is.EqualTo("FINISHED"));
        Assert.That(FaultKit.History(Sandbox, number, "acc").Select(p => p.Value), Is.EqualTo(new[] { 0.5, 0.75 }));
    }

    [Test]
    public void List_shows_a_running_jobs_tqdm_progress_and_time_left()
    {
        var release = Path.Combine(Sandbox.WorkDir, "release");
        Sandbox.WriteFile("bar.sh", $$"""
            printf ' 45%%|####5     | 45/100 [00:04<01:05, 9.87it/s]\r'
            while [ ! -e '{{release}}' ]; do sleep 0.02; done
            printf '100%%|##########| 100/100 [00:10<00:00, 9.87it/s]\n'
            """);
        var number = Sandbox.Submit("--scalars-from-output", "bar.sh");
        string? list = null;
        FaultKit.WaitFor(() => (list = Sandbox.Ok("list")).Contains("RUNNING 45%, 1m05s left"), "list to show the bar's progress", 60);
        var json = Sandbox.Ok("list", "--json");
        Assert.That(json, Does.Contain("\"progress\": 45").And.Contain("\"etaSeconds\": 65"), json);
        File.WriteAllText(release, "");
        Assert.That(Sandbox.WaitForEnd(number).State, Is.EqualTo("FINISHED"));
        Assert.That(Sandbox.Ok("list"), Does.Not.Contain("%,"), "an ended job shows no progress");
    }
}
