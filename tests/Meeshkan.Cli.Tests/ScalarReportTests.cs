using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Meeshkan.Testing;

namespace Meeshkan.Cli.Tests;

/// <summary>Scripts written for the original `meeshkan` package, run unchanged, as jobs and by hand.</summary>
[TestFixture]
public sealed class ScalarReportTests() : SandboxFixture(AgentPer.Test)
{
    private const string OriginalStyleScript = """
        import meeshkan

        meeshkan.add_condition("train loss", "evaluation loss", lambda train_loss, eval_loss: abs(train_loss - eval_loss) > 0.2)
        meeshkan.add_condition("F1", lambda f1: f1 < 0.1)

        def main():
            for step in range(500):
                train_loss = 1.0 / (step + 1)
                eval_loss = train_loss + (0.5 if step == 250 else 0.01)
                meeshkan.report_scalar("train loss", train_loss, "evaluation loss", eval_loss)
                if step % 100 == 0:
                    meeshkan.report_scalar("F1", 0.05 + step / 1000)

        main()
        print("done")
        """;

    [Test]
    public void A_submitted_original_style_script_reports_exactly_what_it_reported()
    {
        Sandbox.WriteFile("original.py", OriginalStyleScript);
        var number = Sandbox.Submit("original.py");
        var job = Sandbox.WaitForEnd(number);
        Assert.That(job.State, Is.EqualTo("FINISHED"), Sandbox.Run("logs", number.ToString()).ToString());

        var report = Report(number);
        Assert.That(report["train loss"], Is.EqualTo((Value: 1.0 / 500, Step: 499L, Count: 500L)));
        Assert.That(report["evaluation loss"].Value, Is.EqualTo(1.0 / 500 + 0.01).Within(1e-12));
        Assert.That(report["F1"], Is.EqualTo((Value: 0.05 + 400 / 1000.0, Step: 4L, Count: 5L)));

        var history = Sandbox.Ok("report", number.ToString(), "--history", "train loss");
        var lines = history.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(501), "a header and every point");
        Assert.That(lines[1], Does.StartWith("0 ").And.Contain(" 1 "));

        var text = Sandbox.Ok("report", number.ToString());
        Assert.That(text, Does.Contain("Conditions met:"));
        Assert.That(text, Does.Contain("f1 < 0.1"), "the F1 lambda fired (0.05 < 0.1)");
        Assert.That(text, Does.Contain("abs(train_loss - eval_loss) > 0.2"), "the spike at step 250 fired");
    }

    [Test]
    public void The_same_script_run_by_hand_as_a_blocking_job_is_listed_and_recorded()
    {
        Sandbox.WriteFile("blocking.py", """
            import meeshkan

            @meeshkan.as_blocking_job(job_name="by-hand", report_interval_secs=60)
            def main():
                for step in range(1000):
                    meeshkan.report_scalar("loss", 1000 - step)

            main()
            """);
        var result = RunPython("blocking.py");
        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        var job = Sandbox.Jobs().Single(j => j.Name == "by-hand");
        Assert.That(job.State, Is.EqualTo("FINISHED"));
        Assert.That(Report(job.Number)["loss"], Is.EqualTo((Value: 1.0, Step: 999L, Count: 1000L)));
    }

    [Test]
    public void A_blocking_job_that_raises_is_failed_with_the_exception()
    {
        Sandbox.WriteFile("raises.py", """
            import meeshkan

            @meeshkan.as_blocking_job("explodes", 60)
            def main():
                meeshkan.report_scalar("loss", 0.5)
                raise RuntimeError("diverged at step 3")

            main()
            """);
        var result = RunPython("raises.py");
        Assert.That(result.ExitCode, Is.Not.Zero);
        Assert.That(result.Stderr, Does.Contain("diverged at step 3"));
        var job = Sandbox.Jobs().Single(j => j.Name == "explodes");
        Assert.That(job.State, Is.EqualTo("FAILED"));
        Assert.That(job.FailureReason, Does.Contain("diverged at step 3"));
        Assert.That(Report(job.Number)["loss"].Count, Is.EqualTo(1));
    }

    [Test]
    public void An_expression_condition_is_evaluated_by_the_agent()
    {
        Sandbox.WriteFile("expr.py", """
            import meeshkan
            meeshkan.add_condition("[eval loss] - [train loss] > 0.2")
            for step in range(100):
                meeshkan.report_scalar("train loss", 0.1, "eval loss", 0.5 if step == 50 else 0.15)
            """);
        var number = Sandbox.Submit("expr.py");
        Assert.That(Sandbox.WaitForEnd(number).State, Is.EqualTo("FINISHED"), Sandbox.Run("logs", number.ToString()).ToString());
        using var doc = JsonDocument.Parse(Sandbox.Ok("report", number.ToString(), "--json"));
        var events = doc.RootElement.GetProperty("conditionEvents").EnumerateArray().ToList();
        Assert.That(events, Has.Count.EqualTo(1), "fired once, then the cooldown holds");
        Assert.That(events[0].GetProperty("values").GetProperty("eval loss").GetDouble(), Is.EqualTo(0.5));
    }

    [Test]
    public void A_malformed_expression_is_a_clear_error_in_the_script()
    {
        Sandbox.WriteFile("bad.py", """
            import meeshkan
            try:
                meeshkan.add_condition("loss >")
            except ValueError as e:
                print("REJECTED", e)
            """);
        var number = Sandbox.Submit("bad.py");
        Sandbox.WaitForEnd(number);
        Assert.That(Sandbox.Ok("logs", number.ToString()), Does.Contain("REJECTED"));
    }

    [Test]
    public void With_no_agent_a_script_runs_to_the_end_with_one_warning()
    {
        Sandbox.Ok("stop");
        Sandbox.WriteFile("alone.py", """
            import meeshkan
            meeshkan.add_condition("loss", lambda l: l < 0)
            for step in range(10000):
                meeshkan.report_scalar("loss", step)
            print("finished", step)
            """);
        var clock = Stopwatch.StartNew();
        var result = RunPython("alone.py", jobId: Guid.NewGuid().ToString());
        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        Assert.That(result.Stdout, Does.Contain("finished 9999"));
        Assert.That(result.Stderr.Split('\n').Count(l => l.Contains("meeshkan", StringComparison.OrdinalIgnoreCase)), Is.InRange(1, 3), result.Stderr);
        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(30)), "never stalls on the missing agent");
    }

    [Test]
    public void A_job_killed_with_sigkill_keeps_everything_it_flushed()
    {
        Sandbox.WriteFile("killed.py", """
            import os, signal, meeshkan
            for step in range(50000):
                meeshkan.report_scalar("loss", step)
            assert meeshkan.flush(timeout=30)
            for step in range(50000, 60000):
                meeshkan.report_scalar("loss", step)
            os.kill(os.getpid(), signal.SIGKILL)
            """);
        var number = Sandbox.Submit("killed.py");
        var job = Sandbox.WaitForEnd(number);
        Assert.That(job.State, Is.EqualTo("FAILED"));
        Assert.That(job.FailureReason, Does.Contain("signal 9"));
        var loss = Report(number)["loss"];
        Assert.That(loss.Count, Is.InRange(50000, 60000), "all flushed points, at most the last unflushed batch lost");
        Assert.That(loss.Step, Is.EqualTo(loss.Count - 1), "no gaps");
    }

    [Test]
    public void The_pytorch_example_trains_and_reports()
    {
        var example = Path.Combine(MeeshkanSandbox.RepoRoot, "examples", "pytorch_digits.py");
        var number = Sandbox.Submit("-n", "digits", example);
        var job = Sandbox.WaitForEnd(number, seconds: 180);
        Assert.That(job.State, Is.EqualTo("FINISHED"), Sandbox.Run("logs", number.ToString()).ToString());
        var report = Report(number);
        Assert.That(report.Keys, Is.SupersetOf(new[] { "train loss", "test loss", "test accuracy" }));
        Assert.That(report["test accuracy"].Value, Is.GreaterThan(0.8));
    }

    private CliResult RunPython(string script, string? jobId = null)
    {
        var start = new ProcessStartInfo("/usr/bin/python3")
        {
            WorkingDirectory = Sandbox.WorkDir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(script);
        start.Environment["MEESHKAN_HOME"] = Sandbox.Home;
        start.Environment["PYTHONPATH"] = Path.Combine(MeeshkanSandbox.RepoRoot, "clients", "python");
        start.Environment.Remove("MEESHKAN_JOB_ID");
        if (jobId is not null)
        {
            start.Environment["MEESHKAN_JOB_ID"] = jobId;
        }
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(120_000))
        {
            process.Kill(true);
            Assert.Fail("script did not finish");
        }
        return new CliResult(process.ExitCode, stdout.Result, stderr.Result);
    }

    private Dictionary<string, (double Value, long Step, long Count)> Report(long number) => Sandbox.Scalars(number);
}
