using System.Diagnostics;
using Meeshkan.Testing;

namespace Meeshkan.Slurm.Tests.Cluster;

/// <summary>
/// Jobs through the real `meeshkan` and a real agent on the real single-node Slurm: submit --on slurm goes to sbatch,
/// list shows Slurm's word, the end is Slurm's (true exit code, cancel, time limit), scalars come over TCP.
/// </summary>
[NonParallelizable]
public sealed class SlurmJobTests : SandboxFixture
{
    protected override void Prepare(MeeshkanSandbox sandbox) => UseTheSuitesSlurm(sandbox);

    protected override void StartAgent(MeeshkanSandbox sandbox) => sandbox.StartListening();

    /// <summary>An agent set up for the suite's Slurm, listening on loopback TLS for its jobs' reports.</summary>
    public static MeeshkanSandbox NewAgent()
    {
        var agent = new MeeshkanSandbox();
        UseTheSuitesSlurm(agent);
        agent.StartListening();
        return agent;
    }

    private static void UseTheSuitesSlurm(MeeshkanSandbox agent)
    {
        foreach (var (key, value) in SlurmSuite.Cluster.Environment)
        {
            agent.Environment[key] = value;
        }
        agent.Ok("setup", "--slurm");
    }

    [Test]
    public void A_job_that_finishes_runs_in_slurm_and_writes_into_its_folder()
    {
        var number = Sandbox.Submit("--on", "slurm", "--name", "hello", "/bin/sh", "-c", "echo hello from $SLURM_JOB_ID");
        var job = Sandbox.WaitForEnd(number, 60);

        Assert.That(job.State, Is.EqualTo("FINISHED"), job.FailureReason);
        Assert.That(job.ExitCode, Is.EqualTo(0));
        Assert.That(Sandbox.Ok("logs", "hello"), Does.Match("hello from [0-9]+"));
        Assert.That(File.ReadAllText(Path.Combine(job.OutputDirectory, "slurm.sh")), Does.Contain("sbatch --parsable"));
    }

    [Test]
    public void A_job_that_exits_3_is_failed_with_exit_code_3_and_slurms_state()
    {
        // `submit --on slurm CMD` is answered by the small `meeshkan` itself (QuickCommands), the same as with more options.
        var number = Sandbox.Submit("--on", "slurm", "/bin/sh", "-c", "exit 3");
        var job = Sandbox.WaitForEnd(number, 60);

        Assert.That(job.State, Is.EqualTo("FAILED"));
        Assert.That(job.ExitCode, Is.EqualTo(3));
        Assert.That(job.FailureReason, Does.Match("^exit status 3 \\(Slurm [0-9]+: FAILED, NonZeroExitCode\\)$"));

        // `meeshkan retry` queues it again on Slurm, not on this machine.
        var retry = Sandbox.Ok("retry", number.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var again = Sandbox.WaitForEnd(long.Parse(retry.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture), 60);
        Assert.That((again.State, again.ExitCode), Is.EqualTo(("FAILED", (int?)3)));
        Assert.That(again.FailureReason, Does.Match("^exit status 3 \\(Slurm [0-9]+: FAILED, NonZeroExitCode\\)$"));
    }

    [Test]
    public void List_shows_slurms_job_id_and_running_on_its_node_then_a_cancel_is_scancel()
    {
        var number = Sandbox.Submit("--on", "slurm", "--name", "sleeper", "sleep", "300");
        var clock = Stopwatch.StartNew();
        string table;
        do
        {
            table = Sandbox.Ok("list");
            Thread.Sleep(100);
        }
        while (!table.Contains("RUNNING on ", StringComparison.Ordinal) && clock.Elapsed < TimeSpan.FromSeconds(30));
        Assert.That(table, Does.Match("sleeper +Slurm [0-9]+ RUNNING on \\S+"));
        var slurmId = System.Text.RegularExpressions.Regex.Match(table, "Slurm ([0-9]+) RUNNING").Groups[1].Value;

        Sandbox.Ok("cancel", "-y", "sleeper");

        Assert.That(Sandbox.WaitForEnd(number, 60).State, Is.EqualTo("CANCELED"));
        Assert.That(SlurmSuite.Cluster.Client("squeue", "-h", "-t", "all", "-j", slurmId, "-o", "%T").Stdout.Trim(), Is.EqualTo("CANCELLED"));
    }

    [Test]
    public void A_python_job_reports_scalars_and_a_condition_over_tcp_with_its_job_token()
    {
        var script = Sandbox.WriteFile("train.py", """
            import os, meeshkan
            assert os.environ["MEESHKAN_AGENT_URL"].startswith("https://127.0.0.1:")
            meeshkan.add_condition("loss < 0.5")
            for step in range(100):
                meeshkan.report_scalar("loss", 1.0 - step / 100)
            meeshkan.notify("from the node")
            """);
        var number = Sandbox.Submit("--on", "slurm", "--name", "train", script);
        var job = Sandbox.WaitForEnd(number, 90);

        Assert.That(job.State, Is.EqualTo("FINISHED"), Sandbox.Run("logs", "train").ToString());
        using var report = System.Text.Json.JsonDocument.Parse(Sandbox.Ok("report", "train", "--json"));
        var loss = report.RootElement.GetProperty("scalars").EnumerateArray().Single(s => s.GetProperty("name").GetString() == "loss");
        Assert.That(loss.GetProperty("count").GetString(), Is.EqualTo("100"));
        Assert.That(report.RootElement.GetProperty("conditionEvents").EnumerateArray().Select(e => e.GetProperty("description").GetString()),
            Has.Some.Contains("loss < 0.5"));
        Assert.That(Sandbox.Ok("notifications", "train"), Does.Contain("from the node"));
    }

    [Test]
    public void Bad_slurm_input_is_one_line_and_a_non_zero_exit()
    {
        // Slurm's own refusal comes at hand-over (the submit only queues it in Meeshkan): the job fails with its message.
        var partition = Sandbox.Submit("--on", "slurm", "--partition", "nosuch", "true");
        var refused = Sandbox.WaitForEnd(partition, 60);
        Assert.That(refused.State, Is.EqualTo("FAILED"));
        Assert.That(refused.FailureReason, Does.Contain("invalid partition specified: nosuch"));
        var mem = Sandbox.Run("submit", "--on", "slurm", "--mem", "lots", "true");
        Assert.That(mem.ExitCode, Is.Not.EqualTo(0));
        Assert.That(mem.Stderr.Trim(), Does.Contain("--mem lots: give a size such as 4096M, 16G or 1T").And.Not.Contain("\n"));
        var local = Sandbox.Run("submit", "--cpus", "2", "true");
        Assert.That(local.Stderr, Does.Contain("add --on slurm"));
        Assert.That(local.ExitCode, Is.Not.EqualTo(0));
        // This agent has no GPUs: a Slurm job's GPUs are Slurm's to give, not checked against this machine.
        var gpus = Sandbox.Run("submit", "--on", "slurm", "--gpus", "0.5", "true");
        Assert.That(gpus.ExitCode, Is.Not.EqualTo(0));
        Assert.That(gpus.Stderr, Does.Contain("Slurm gives whole GPUs"));
        var gpuIds = Sandbox.Run("submit", "--on", "slurm", "--gpu-ids", "0", "true");
        Assert.That(gpuIds.ExitCode, Is.Not.EqualTo(0));
        Assert.That(gpuIds.Stderr, Does.Contain("--gpus N"));
        var noSuchGres = Sandbox.Submit("--on", "slurm", "--gpus", "1", "true");
        var gres = Sandbox.WaitForEnd(noSuchGres, 60);
        Assert.That(gres.State, Is.EqualTo("FAILED"));
        Assert.That(gres.FailureReason, Does.Contain("sbatch: ").And.Contain("generic resource").IgnoreCase);
    }

    [Test]
    public void A_time_limit_ends_the_job_failed_with_slurms_timeout()
    {
        var number = Sandbox.Submit("--on", "slurm", "--name", "slow", "--timeout", "1m", "sleep", "600");
        var job = Sandbox.WaitForEnd(number, 180);

        Assert.That(job.State, Is.EqualTo("FAILED"));
        Assert.That(job.FailureReason, Does.Match("^time limit reached \\(Slurm [0-9]+: TIMEOUT"));
    }

    [Test]
    public void A_slurm_job_after_a_local_one_is_handed_to_slurm_only_when_that_one_finished()
    {
        var gate = Path.Combine(Sandbox.Home, "first-may-end");
        var first = Sandbox.Submit("--name", "prepare", "/bin/sh", "-c", $"while [ ! -f '{gate}' ]; do sleep 0.1; done");
        var second = Sandbox.Submit("--on", "slurm", "--name", "train-after", "--after", first.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "/bin/sh", "-c", "echo trained");
        Wait.For(() => Sandbox.Jobs().Single(j => j.Number == second).ExecutorState == $"waiting for job {first}", "the Slurm job to say it waits for its dependency", 30);

        var waiting = Sandbox.Jobs().Single(j => j.Number == second);
        Assert.That(waiting.State, Is.EqualTo("QUEUED"), "not handed to Slurm while its dependency runs");
        Assert.That(Sandbox.Ok("list"), Does.Contain($"waiting for job {first}"));
        File.WriteAllText(gate, "");
        var job = Sandbox.WaitForEnd(second, 90);

        Assert.That(job.State, Is.EqualTo("FINISHED"), job.FailureReason);
        Assert.That(Sandbox.Ok("logs", "train-after"), Does.Contain("trained"));
        Assert.That(job.StartedAt, Is.GreaterThanOrEqualTo(Sandbox.Jobs().Single(j => j.Number == first).FinishedAt!.Value));
    }

    [Test]
    public void A_slurm_job_after_a_failed_job_fails_at_once_without_reaching_slurm()
    {
        var first = Sandbox.Submit("--name", "broken", "/bin/sh", "-c", "exit 1");
        var second = Sandbox.Submit("--on", "slurm", "--name", "never", "--after", first.ToString(System.Globalization.CultureInfo.InvariantCulture), "true");
        var job = Sandbox.WaitForEnd(second, 60);

        Assert.That(job.State, Is.EqualTo("FAILED"));
        Assert.That(job.FailureReason, Does.StartWith($"dependency {first} failed"));
        Assert.That(File.Exists(Path.Combine(job.OutputDirectory, "slurm.sh")), Is.False, "it never went to sbatch");
    }

    [Test]
    public void A_failed_slurm_attempt_is_retried_on_slurm_and_each_attempt_is_kept()
    {
        var marker = Path.Combine(Sandbox.Home, "retried-once");
        var number = Sandbox.Submit("--on", "slurm", "--name", "flaky", "--retries", "2", "/bin/sh", "-c",
            $"if [ -f '{marker}' ]; then echo second attempt; else touch '{marker}'; echo first attempt; exit 3; fi");
        var job = Sandbox.WaitForEnd(number, 120);

        Assert.That(job.State, Is.EqualTo("FINISHED"), job.FailureReason);
        Assert.That(Sandbox.Ok("logs", "flaky"), Does.Contain("second attempt"));
        Assert.That(Sandbox.Ok("logs", "flaky", "--attempt", "1"), Does.Contain("first attempt"));
    }
}
