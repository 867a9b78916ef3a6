using System.Globalization;
using System.Text.Json;
using Meeshkan.Testing;

namespace Meeshkan.Cli.Tests;

/// <summary>submit --stop-if and add_condition(..., action="stop"): the agent stops a job whose metrics go wrong.</summary>
[TestFixture]
public sealed class StopConditionTests() : SandboxFixture(AgentPer.Test)
{
    // Reports a good loss, then NaN, then waits for a file the test never creates: only a stop ends it.
    private const string Diverging = """
        import math, os, time
        import meeshkan
        {0}
        meeshkan.report_scalar("train loss", 0.5)
        meeshkan.report_scalar("train loss", float("nan"))
        with open("reported", "w") as f:
            f.write(str(os.getpid()))
        while not os.path.exists("never"):
            time.sleep(0.05)
        """;

    private static void AssertStopped(MeeshkanSandbox sandbox, long number)
    {
        var ended = sandbox.WaitForEnd(number);
        Assert.That(ended.State, Is.EqualTo("FAILED"), sandbox.Run("logs", number.ToString(CultureInfo.InvariantCulture)).ToString());
        Assert.That(ended.FailureReason, Is.EqualTo("stopped by condition isnan([train loss]) (train loss = NaN)"));
        Assert.That(Processes.Alive(ended.Pid), Is.False);
        Assert.That(sandbox.Ok("list"), Does.Match(@"FAILED \((attempt 1/3, )?stopped by condition isnan\(\[train loss\]\) \(train loss = NaN\)\)"));
        var report = sandbox.Ok("report", number.ToString(CultureInfo.InvariantCulture));
        Assert.That(report, Does.Contain("stopped by condition isnan([train loss])"));
        Assert.That(report, Does.Contain("(stopped the job)"));
        Wait.For(() => sandbox.Ok("notifications", number.ToString(CultureInfo.InvariantCulture)).Contains("job_failed"), "the failure notification", 30);
    }

    [Test]
    public void Stop_if_stops_a_python_job_reporting_NaN_and_it_is_not_retried()
    {
        Sandbox.WriteFile("train.py", string.Format(CultureInfo.InvariantCulture, Diverging, ""));
        var number = Sandbox.Submit("--stop-if", "isnan([train loss])", "--retries", "2", "train.py");

        AssertStopped(Sandbox, number);
        using var listed = JsonDocument.Parse(Sandbox.Ok("list", "--json"));
        Assert.That(listed.RootElement.GetProperty("jobs")[0].GetProperty("attempt").GetInt32(), Is.EqualTo(1), "a stop is not retried");
    }

    [Test]
    public void A_stopped_jobs_record_carries_the_condition_that_stopped_it_with_its_values()
    {
        Sandbox.WriteFile("train.py", string.Format(CultureInfo.InvariantCulture, Diverging, ""));
        var number = Sandbox.Submit("--stop-if", "isnan([train loss])", "train.py");
        var ended = Sandbox.WaitForEnd(number);
        Assert.That(ended.State, Is.EqualTo("FAILED"));

        static void AssertStoppedBy(JsonElement job)
        {
            var stoppedBy = job.GetProperty("stoppedBy");
            Assert.That(stoppedBy.GetProperty("description").GetString(), Is.EqualTo("isnan([train loss])"));
            Assert.That(stoppedBy.GetProperty("action").GetString(), Is.EqualTo("CONDITION_ACTION_STOP"));
            Assert.That(stoppedBy.GetProperty("values").GetProperty("train loss").GetString(), Is.EqualTo("NaN"));
        }
        using (var report = JsonDocument.Parse(Sandbox.Ok("report", number.ToString(CultureInfo.InvariantCulture), "--json")))
        {
            AssertStoppedBy(report.RootElement.GetProperty("job"));
        }
        using (var listed = JsonDocument.Parse(Sandbox.Ok("list", "--json")))
        {
            AssertStoppedBy(listed.RootElement.GetProperty("jobs")[0]);
        }

        // A job that ended otherwise has none.
        var other = Sandbox.Submit("false");
        Sandbox.WaitForEnd(other);
        using var plain = JsonDocument.Parse(Sandbox.Ok("report", other.ToString(CultureInfo.InvariantCulture), "--json"));
        Assert.That(!plain.RootElement.GetProperty("job").TryGetProperty("stoppedBy", out var none) || none.ValueKind == JsonValueKind.Null, Is.True);
    }

    [Test]
    public void Add_condition_with_the_stop_action_stops_a_python_job()
    {
        Sandbox.WriteFile("train.py", string.Format(CultureInfo.InvariantCulture, Diverging, "meeshkan.add_condition(\"isnan([train loss])\", action=\"stop\")"));
        var number = Sandbox.Submit("train.py");

        AssertStopped(Sandbox, number);
    }

    [Test]
    public void The_csharp_sdk_stop_condition_stops_a_job_reporting_NaN()
    {
        var number = Sandbox.Submit("-n", "csharp-diverge", MeeshkanSandbox.CSharpExample, "--diverge");

        var ended = Sandbox.WaitForEnd(number, seconds: 120);
        Assert.That(ended.State, Is.EqualTo("FAILED"), Sandbox.Run("logs", number.ToString(CultureInfo.InvariantCulture)).ToString());
        Assert.That(ended.FailureReason, Is.EqualTo("stopped by condition isnan([train loss]) (train loss = NaN)"));
        Assert.That(Sandbox.Ok("logs", number.ToString(CultureInfo.InvariantCulture)), Does.Not.Contain("done"), "stopped before its end");
    }

    [Test]
    public void Stop_if_stops_a_csharp_job_reporting_NaN()
    {
        var number = Sandbox.Submit("-n", "csharp-stop-if", "--stop-if", "isnan([train loss])", MeeshkanSandbox.CSharpExample, "--diverge");

        var ended = Sandbox.WaitForEnd(number, seconds: 120);
        Assert.That(ended.State, Is.EqualTo("FAILED"));
        Assert.That(ended.FailureReason, Does.StartWith("stopped by condition isnan([train loss])"));
    }
}
