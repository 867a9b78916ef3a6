using System.Diagnostics;
using Meeshkan.Testing;

namespace Meeshkan.Cli.Tests;

/// <summary>`meeshkan wait` and `meeshkan retry`, as a shell script or CI uses them.</summary>
[TestFixture]
public sealed class PipelineTests() : SandboxFixture(AgentPer.Test)
{
    [Test]
    public void Wait_blocks_until_the_jobs_end_and_exits_with_the_status_of_the_first_that_did_not_finish()
    {
        Sandbox.WriteFile("ok.sh", "sleep 0.5\n");
        Sandbox.WriteFile("fails.sh", "sleep 0.2; exit 3\n");
        var ok = Sandbox.Submit("ok.sh");
        var fails = Sandbox.Submit("fails.sh");

        var clock = Stopwatch.StartNew();
        var first = Sandbox.Run("wait", ok.ToString());
        Assert.That(first.ExitCode, Is.Zero, first.ToString());
        Assert.That(first.Stdout, Does.Contain($"Job {ok} (ok.sh) FINISHED"));
        Assert.That(clock.Elapsed, Is.GreaterThan(TimeSpan.FromSeconds(0.4)), "it waited for the job");

        var both = Sandbox.Run("wait", ok.ToString(), "fails");
        Assert.That(both.ExitCode, Is.EqualTo(3), both.ToString());
        Assert.That(both.Stdout, Does.Contain($"Job {fails} (fails.sh) FAILED: exit status 3"));
        Assert.That(Sandbox.Job(fails)!.State, Is.EqualTo("FAILED"), "wait returned once the end was recorded");
    }

    [Test]
    public void Wait_blocks_while_the_job_runs_and_returns_when_it_ends()
    {
        Sandbox.WriteFile("gate.sh", "while [ ! -f go ]; do sleep 0.05; done\n");
        var number = Sandbox.Submit("gate.sh");
        Sandbox.WaitForState(number, TimeSpan.FromSeconds(30), "RUNNING");

        var waiting = Task.Run(() => Sandbox.Run("wait", number.ToString()));
        Assert.That(waiting.Wait(TimeSpan.FromSeconds(2)), Is.False, "wait returned while the job ran");
        Sandbox.WriteFile("go", "");

        Assert.That(waiting.Wait(TimeSpan.FromSeconds(30)), Is.True, "wait did not return once the job ended");
        Assert.That(waiting.Result.ExitCode, Is.Zero, waiting.Result.ToString());
        Assert.That(Sandbox.Job(number)!.State, Is.EqualTo("FINISHED"));
    }

    [Test]
    public void Wait_for_no_job_or_an_unknown_one_is_an_error()
    {
        var none = Sandbox.Run("wait");
        Assert.That(none.ExitCode, Is.Not.Zero, none.ToString());
        var unknown = Sandbox.Run("wait", "nosuchjob");
        Assert.That(unknown.ExitCode, Is.EqualTo(4), unknown.ToString());
        Assert.That(unknown.Stderr, Does.Contain("no job matches 'nosuchjob'"));
    }

    [Test]
    public void Retry_queues_a_new_job_with_the_same_command_folder_and_environment()
    {
        Sandbox.WriteFile("flaky.sh", "echo \"run in $(pwd) with $FLAVOUR args $*\"; exit 1\n");
        Sandbox.Environment["FLAVOUR"] = "vanilla";
        var first = Sandbox.Submit("--name", "flaky", "flaky.sh", "--seed", "7");
        Sandbox.WaitForEnd(first);
        Sandbox.Environment["FLAVOUR"] = "changed since";

        var result = Sandbox.Run("retry", "flaky");

        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        Assert.That(result.Stdout, Does.Match($@"Job (\d+) submitted: flaky \(.*\), a retry of job {first}"));
        var second = first + 1;
        var again = Sandbox.WaitForEnd(second);
        Assert.That(again.Name, Is.EqualTo("flaky"));
        Assert.That(Sandbox.Ok("logs", second.ToString()), Does.Contain($"run in {Sandbox.WorkDir} with vanilla args --seed 7"));
    }

    [Test]
    public void Retry_of_a_job_that_has_not_ended_is_refused_and_queues_nothing()
    {
        Sandbox.WriteFile("long.sh", "sleep 30\n");
        var number = Sandbox.Submit("long.sh");
        Sandbox.WaitForState(number, TimeSpan.FromSeconds(30), "RUNNING");

        var result = Sandbox.Run("retry", number.ToString());

        Assert.That(result.ExitCode, Is.EqualTo(2), result.ToString());
        Assert.That(result.Stderr.Trim().Split('\n'), Has.Length.EqualTo(1));
        Assert.That(result.Stderr, Does.Contain($"job {number} (long.sh) is RUNNING; retry an ended job"));
        Assert.That(Sandbox.Jobs(), Has.Count.EqualTo(1));
    }
}
