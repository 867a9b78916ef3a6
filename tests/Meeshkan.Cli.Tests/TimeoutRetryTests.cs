using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Meeshkan.Testing;

namespace Meeshkan.Cli.Tests;

/// <summary>submit --timeout, --retries and --retry-delay, through the real CLI and agent, across restarts.</summary>
[TestFixture]
public sealed class TimeoutRetryTests() : SandboxFixture(AgentPer.Test)
{
    protected override void Prepare(MeeshkanSandbox sandbox)
    {
        // A short grace, so that a job ignoring SIGTERM is killed quickly.
        Directory.CreateDirectory(sandbox.Home);
        var config = Path.Combine(sandbox.Home, "config");
        File.WriteAllText(config, "{\"cancel_grace_seconds\": 1}\n");
        File.SetUnixFileMode(config, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    private string N(long number) => number.ToString(CultureInfo.InvariantCulture);

    [Test]
    public void A_timeout_kills_a_job_that_ignores_SIGTERM_and_it_ends_failed_timed_out()
    {
        Sandbox.WriteFile("stubborn.sh", "trap 'echo got TERM' TERM; echo $$ > pid; while true; do sleep 0.05; done\n");
        var number = Sandbox.Submit("--timeout", "2s", "stubborn.sh");
        var running = Sandbox.WaitForState(number, TimeSpan.FromSeconds(30), "RUNNING");

        var ended = Sandbox.WaitForEnd(number);

        Assert.That(ended.State, Is.EqualTo("FAILED"));
        Assert.That(ended.FailureReason, Is.EqualTo("timed out after 2s"));
        var ran = ended.FinishedAt!.Value - ended.StartedAt!.Value;
        Assert.That(ran, Is.GreaterThanOrEqualTo(TimeSpan.FromSeconds(2)), "not before its time");
        Assert.That(Processes.Alive(running.Pid), Is.False, "its processes are gone");
        Assert.That(Processes.Alive(int.Parse(File.ReadAllText(Path.Combine(Sandbox.WorkDir, "pid")).Trim(), CultureInfo.InvariantCulture)), Is.False);
        Assert.That(Sandbox.Ok("list"), Does.Contain("FAILED (timed out after 2s)"));
        Wait.For(() => Sandbox.Ok("notifications", N(number)).Contains("job_failed"), "the failure notification", 30);
    }

    [Test]
    public void The_timeout_clock_keeps_counting_across_a_kill_of_the_agent()
    {
        Sandbox.WriteFile("long.sh", "sleep 1000\n");
        var number = Sandbox.Submit("--timeout", "3s", "long.sh");
        var running = Sandbox.WaitForState(number, TimeSpan.FromSeconds(30), "RUNNING");
        Sandbox.KillAgentIfAlive();
        // Past the deadline while no agent runs: the next agent stops the job at once.
        Wait.For(() => DateTime.UtcNow - running.StartedAt!.Value > TimeSpan.FromSeconds(3.5), "the deadline to pass", 30);
        Assert.That(Processes.Alive(running.Pid), Is.True, "the job outlived the agent");

        var clock = Stopwatch.StartNew();
        Sandbox.Start();
        var ended = Sandbox.WaitForEnd(number);

        Assert.That(ended.State, Is.EqualTo("FAILED"));
        Assert.That(ended.FailureReason, Is.EqualTo("timed out after 3s"));
        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(20)), "stopped at once, not 3 s after the restart and not never");
        Wait.For(() => !Processes.Alive(running.Pid), "its process gone", 10);
    }

    [Test]
    public void A_job_that_fails_twice_then_succeeds_is_retried_and_keeps_each_attempt()
    {
        Sandbox.WriteFile("flaky.sh", "n=$(cat count 2>/dev/null || echo 0); n=$((n+1)); echo $n > count; echo \"attempt $n\"; echo \"err $n\" >&2; [ $n -ge 3 ] || exit 4\n");
        var number = Sandbox.Submit("--retries", "2", "flaky.sh");

        var ended = Sandbox.WaitForEnd(number);

        Assert.That(ended.State, Is.EqualTo("FINISHED"), Sandbox.Ok("list"));
        Assert.That(Sandbox.Ok("logs", N(number)), Is.EqualTo("attempt 3\n"), "the default shows the last attempt");
        Assert.That(Sandbox.Ok("logs", N(number), "--attempt", "1"), Is.EqualTo("attempt 1\n"));
        var second = Sandbox.Run("logs", N(number), "--attempt", "2");
        Assert.That(second.Stdout, Is.EqualTo("attempt 2\n"));
        Assert.That(second.Stderr, Does.StartWith("err 2\n"), "and its stderr");
        var beyond = Sandbox.Run("logs", N(number), "--attempt", "4");
        Assert.That(beyond.ExitCode, Is.EqualTo(4), beyond.ToString());
        Assert.That(beyond.Stderr, Does.Contain("has attempts 1 to 3"));
        Assert.That(Sandbox.Ok("list"), Does.Contain("FINISHED (attempt 3/3)"));

        using var job = JsonDocument.Parse(Sandbox.Ok("list", "--json"));
        var listed = job.RootElement.GetProperty("jobs")[0];
        Assert.That(listed.GetProperty("attempt").GetInt32(), Is.EqualTo(3));
        Wait.For(() => Sandbox.Ok("notifications", N(number)).Contains("attempt 2 of 3 failed (exit 4), retrying now"), "the notification of each failed attempt", 30);
        var history = Sandbox.Ok("notifications", N(number));
        Assert.That(history, Does.Contain("attempt 1 of 3 failed (exit 4), retrying now"));
        Assert.That(history, Does.Contain("job_finished"));
    }

    [Test]
    public void Each_attempt_has_its_own_scalars_and_report_shows_the_last_unless_asked_for_another()
    {
        // Attempt 1 reports three losses (Python) and prints three accuracies (read from its output), then fails;
        // attempt 2 one of each, and finishes.
        Sandbox.WriteFile("flaky.py", """
            import os, sys
            import meeshkan
            n = int(open("count").read()) + 1 if os.path.exists("count") else 1
            open("count", "w").write(str(n))
            for i in range(3 if n == 1 else 1):
                meeshkan.report_scalar("loss", 10.0 * n + i)
                print(f"acc: {n}.{i}", flush=True)
            sys.exit(1 if n == 1 else 0)
            """);
        var number = Sandbox.Submit("--retries", "1", "--scalars-from-output", "flaky.py");
        var ended = Sandbox.WaitForEnd(number);
        Assert.That(ended.State, Is.EqualTo("FINISHED"), Sandbox.Run("logs", N(number)).ToString());

        static Dictionary<string, (double Value, long Count)> Scalars(JsonDocument report) =>
            report.RootElement.GetProperty("scalars").EnumerateArray().ToDictionary(s => s.GetProperty("name").GetString()!,
                s => (s.GetProperty("value").GetDouble(), long.Parse(s.GetProperty("count").ToString(), CultureInfo.InvariantCulture)));

        using (var last = JsonDocument.Parse(Sandbox.Ok("report", N(number), "--json")))
        {
            Assert.That(last.RootElement.GetProperty("attempt").GetInt32(), Is.EqualTo(2));
            Assert.That(Scalars(last), Is.EquivalentTo(new Dictionary<string, (double, long)> { ["loss"] = (20.0, 1), ["acc"] = (2.0, 1) }),
                "the last attempt's scalars only");
        }
        using (var first = JsonDocument.Parse(Sandbox.Ok("report", N(number), "--attempt", "1", "--json")))
        {
            Assert.That(first.RootElement.GetProperty("attempt").GetInt32(), Is.EqualTo(1));
            Assert.That(Scalars(first), Is.EquivalentTo(new Dictionary<string, (double, long)> { ["loss"] = (12.0, 3), ["acc"] = (1.2, 3) }));
        }
        var history = Sandbox.Ok("report", N(number), "--history", "loss");
        // STEP, VALUE, TIME per line: only the values are compared (a time such as 21:37:11 holds "11" too).
        var values = history.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1)
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]).ToList();
        Assert.That(values, Is.EqualTo(new[] { "20" }), "attempt 1's points (10, 11, 12) are not mixed in: " + history);
        Assert.That(Sandbox.Ok("report", N(number)), Does.Contain("attempt 2/2"));
        var chart = Path.Combine(Sandbox.WorkDir, "first.png");
        Sandbox.Ok("report", N(number), "--attempt", "1", "--plot", chart);
        Assert.That(new FileInfo(chart).Length, Is.Positive);

        var beyond = Sandbox.Run("report", N(number), "--attempt", "3");
        Assert.That(beyond.ExitCode, Is.Not.Zero, beyond.ToString());
        Assert.That(beyond.Stderr, Does.Contain("has attempts 1 to 2, not 3"));
        var bad = Sandbox.Run("report", N(number), "--attempt", "0");
        Assert.That(bad.ExitCode, Is.EqualTo(2), bad.ToString());
        Assert.That(bad.Stderr.Trim().Split('\n'), Has.Length.EqualTo(1), bad.ToString());
    }

    [Test]
    public void A_job_that_keeps_failing_ends_failed_after_its_last_attempt_and_a_dependant_waits_for_it()
    {
        Sandbox.WriteFile("broken.sh", "echo try >> tries; exit 2\n");
        var number = Sandbox.Submit("--retries", "1", "broken.sh");
        var dependant = Sandbox.Submit("--after", N(number), "echo", "never");

        var ended = Sandbox.WaitForEnd(number);
        Assert.That(ended.State, Is.EqualTo("FAILED"));
        Assert.That(ended.FailureReason, Is.EqualTo("exit status 2"));
        Assert.That(File.ReadAllLines(Path.Combine(Sandbox.WorkDir, "tries")), Has.Length.EqualTo(2), "one retry, no more");
        var after = Sandbox.WaitForEnd(dependant);
        Assert.That(after.FailureReason, Is.EqualTo($"dependency {number} failed (exit status 2)"), "it waited for the last attempt");
    }

    [Test]
    public void A_retry_delay_is_kept_across_a_kill_of_the_agent()
    {
        Sandbox.WriteFile("once.sh", "date +%s.%N >> times; n=$(wc -l < times); [ $n -ge 2 ] || exit 1\n");
        var number = Sandbox.Submit("--retries", "1", "--retry-delay", "4s", "once.sh");
        Wait.For(() => Sandbox.Ok("list").Contains("retrying in"), "the first attempt to fail and the job to wait for its retry", 30);
        Assert.That(Sandbox.Job(number)!.State, Is.EqualTo("RUNNING"), "between attempts it has not ended");

        Sandbox.KillAgentIfAlive();
        Sandbox.Start();
        var ended = Sandbox.WaitForEnd(number);

        Assert.That(ended.State, Is.EqualTo("FINISHED"));
        var times = File.ReadAllLines(Path.Combine(Sandbox.WorkDir, "times")).Select(t => double.Parse(t, CultureInfo.InvariantCulture)).ToArray();
        Assert.That(times, Has.Length.EqualTo(2));
        Assert.That(times[1] - times[0], Is.GreaterThanOrEqualTo(3.9), "the delay was kept across the restart");
        Assert.That(Sandbox.Ok("logs", N(number), "--attempt", "1"), Is.Empty);
    }

    [Test]
    public void A_cancel_is_never_retried_and_a_job_waiting_to_retry_can_be_canceled()
    {
        Sandbox.WriteFile("waits.sh", "echo $$ >> started; while [ ! -f go ]; do sleep 0.05; done; exit 1\n");
        var canceled = Sandbox.Submit("--retries", "3", "waits.sh");
        Sandbox.WaitForState(canceled, TimeSpan.FromSeconds(30), "RUNNING");
        Wait.For(() => File.Exists(Path.Combine(Sandbox.WorkDir, "started")), "the job to start", 30);
        Sandbox.Ok("cancel", "-y", N(canceled));
        Assert.That(Sandbox.WaitForEnd(canceled).State, Is.EqualTo("CANCELED"));
        Assert.That(File.ReadAllLines(Path.Combine(Sandbox.WorkDir, "started")), Has.Length.EqualTo(1), "not retried");

        Sandbox.WriteFile("go", "");
        var delayed = Sandbox.Submit("--retries", "3", "--retry-delay", "1h", "waits.sh");
        Wait.For(() => Sandbox.Ok("list").Contains("retrying in"), "the job to wait for its retry", 30);
        var cancel = Sandbox.Run("cancel", "-y", N(delayed));
        Assert.That(cancel.ExitCode, Is.Zero, cancel.ToString());
        var ended = Sandbox.WaitForEnd(delayed, seconds: 10);
        Assert.That(ended.State, Is.EqualTo("CANCELED"));
    }

    [TestCase("--timeout", "0", "--timeout: `0` is zero; it must be positive")]
    [TestCase("--timeout", "0s", "--timeout: `0s` is zero")]
    [TestCase("--timeout=-5m", null, "--timeout: `-5m` is negative")]
    [TestCase("--timeout", "abc", "--timeout: `abc` is not a duration")]
    [TestCase("--timeout", "10x", "--timeout: `10x` has an unknown unit 'x'")]
    [TestCase("--retries=-1", null, "--retries takes a whole number from 0 to 100")]
    [TestCase("--retries", "101", "--retries takes a whole number from 0 to 100")]
    [TestCase("--retry-delay", "5s", "--retry-delay needs --retries N")]
    [TestCase("--stop-if", "isnan([loss]", "--stop-if:")]
    [TestCase("--stop-if", "nosuch([loss]) > 1", "--stop-if:")]
    public void Bad_options_are_one_line_exit_2_and_queue_nothing(string option, string? value, string message)
    {
        string[] args = value is null ? ["submit", option, "echo", "x"] : ["submit", option, value, "echo", "x"];
        var result = Sandbox.Run(args);

        Assert.That(result.ExitCode, Is.EqualTo(2), result.ToString());
        Assert.That(result.Stderr.Trim().Split('\n'), Has.Length.EqualTo(1), result.ToString());
        Assert.That(result.Stderr, Does.Contain(message));
        Assert.That(Sandbox.Jobs(), Is.Empty, "nothing queued");
    }
}
