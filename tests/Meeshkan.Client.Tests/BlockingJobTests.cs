using Meeshkan.V1;

namespace Meeshkan.Client.Tests;

[TestFixture]
public sealed class BlockingJobTests : ReporterTestBase
{
    [Test]
    public async Task RunAsync_registers_the_process_and_finishes_the_job_successfully()
    {
        var reporter = NewReporter(jobId: null);
        reporter.AddCondition("loss", loss => loss < 0.1);

        var result = await MeeshkanJob.RunAsync("csharp-training", TimeSpan.FromMinutes(5), async () =>
        {
            reporter.ReportScalar("loss", 0.05);
            await Task.Yield();
            return 42;
        }, reporter);

        Assert.That(result, Is.EqualTo(42));
        var register = Agent.Requests<RegisterJobRequest>("RegisterJob").Single();
        Assert.That((register.Name, register.ReportIntervalSeconds, register.Pid), Is.EqualTo(("csharp-training", 300, Environment.ProcessId)));
        Assert.That(register.Command, Is.Not.Empty);
        Assert.That(register.WorkingDirectory, Is.EqualTo(Environment.CurrentDirectory));
        var finish = Agent.Requests<FinishJobRequest>("FinishJob").Single();
        Assert.That(finish.Success, Is.True);
        Assert.That(Agent.JobStateOf(finish.JobId), Is.EqualTo(JobState.Finished));
        Assert.That(Agent.Points(finish.JobId).Single().Value, Is.EqualTo(0.05), "scalars are flushed before the job finishes");
        Assert.That(Agent.Requests<AddConditionRequest>("AddCondition").Single().JobId, Is.EqualTo(finish.JobId),
            "a condition added before the job is registered for it");
        Assert.That(Agent.Requests<ConditionMetRequest>("ReportConditionMet"), Has.Count.EqualTo(1));
        Assert.That(reporter.JobId, Is.Null, "after the job, nothing more is recorded");
    }

    [Test]
    public async Task An_exception_finishes_the_job_as_failed_and_is_rethrown()
    {
        var reporter = NewReporter(jobId: null);

        Assert.That(() => MeeshkanJob.RunAsync("crashing", null, () => throw new InvalidOperationException("diverged"), reporter),
            Throws.InvalidOperationException.With.Message.EqualTo("diverged"));

        var finish = Agent.Requests<FinishJobRequest>("FinishJob").Single();
        Assert.That(finish.Success, Is.False);
        Assert.That(finish.ExitCode, Is.EqualTo(1));
        Assert.That(finish.Error, Does.Contain("diverged"));
        Assert.That(Agent.JobStateOf(finish.JobId), Is.EqualTo(JobState.Failed));
        Assert.That(Agent.Requests<RegisterJobRequest>("RegisterJob").Single().ReportIntervalSeconds, Is.Zero, "the agent's default");
    }

    [Test]
    public async Task StartAsync_with_await_using_finishes_on_dispose_and_Fail_marks_it_failed()
    {
        var reporter = NewReporter(jobId: null);

        await using (var job = await MeeshkanJob.StartAsync("first", reporter: reporter))
        {
            Assert.That(job.Id, Is.Not.Null);
            reporter.ReportScalar("x", 1);
        }
        await using (var job = await MeeshkanJob.StartAsync("second", reporter: reporter))
        {
            job.Fail(new TimeoutException("too slow"));
        }

        var finished = Agent.Requests<FinishJobRequest>("FinishJob");
        Assert.That(finished.Select(f => f.Success), Is.EqualTo(new[] { true, false }));
        Assert.That(finished[1].Error, Does.Contain("too slow"));
    }

    [Test]
    public async Task Inside_a_submitted_job_nothing_is_registered()
    {
        var reporter = NewReporter();

        await MeeshkanJob.RunAsync("ignored", null, () =>
        {
            reporter.ReportScalar("x", 1);
            return Task.CompletedTask;
        }, reporter);

        Assert.That(Agent.Requests<RegisterJobRequest>("RegisterJob"), Is.Empty);
        Assert.That(Agent.Requests<FinishJobRequest>("FinishJob"), Is.Empty);
        Assert.That(Agent.Points(JobId), Has.Count.EqualTo(1));
    }

    [Test]
    public async Task Without_an_agent_the_job_body_still_runs_unrecorded()
    {
        await Agent.StopAsync();
        var reporter = NewReporter(jobId: null);
        var ran = false;

        await MeeshkanJob.RunAsync("offline", null, () =>
        {
            ran = true;
            reporter.ReportScalar("x", 1);
            return Task.CompletedTask;
        }, reporter);

        Assert.That(ran, Is.True);
        Assert.That(Warnings, Has.Some.Contains("could not register job 'offline'"));
    }
}
