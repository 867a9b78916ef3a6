using Grpc.Core;
using Meeshkan.V1;

namespace Meeshkan.Client.Tests;

[TestFixture]
public sealed class ReportScalarTests : ReporterTestBase
{
    [Test]
    public async Task A_million_scalars_all_reach_the_agent_when_the_reporter_is_disposed()
    {
        var reporter = NewReporter();

        for (var i = 0; i < 500_000; i++)
        {
            reporter.ReportScalar("train loss", i, "eval loss", -i);
        }
        await reporter.DisposeAsync();

        var points = Agent.Points(JobId);
        Assert.That(points, Has.Count.EqualTo(1_000_000));
        Assert.That(points.Where(p => p.Name == "train loss").Select(p => p.Value), Is.EqualTo(Enumerable.Range(0, 500_000).Select(i => (double)i)));
        Assert.That(points.Where(p => p.Name == "eval loss").Select(p => p.Value), Is.EqualTo(Enumerable.Range(0, 500_000).Select(i => (double)-i)));
        var batches = Agent.Requests<ScalarBatch>("ReportScalars");
        Assert.That(batches.Max(b => b.Values.Count), Is.LessThanOrEqualTo(100_000));
        Assert.That(batches.Select(b => b.ClientId).Distinct().Count(), Is.EqualTo(1));
        Assert.That(batches.Select(b => b.Sequence), Is.Unique.And.Ordered);
        Assert.That(batches.All(b => b.Steps.Count == 0 && b.WallTimeUs.Count == b.Values.Count && b.NameIndex.Count == b.Values.Count));
        Assert.That(Warnings, Is.Empty);
    }

    [Test]
    public async Task Scalars_are_sent_in_the_background_without_a_flush()
    {
        var reporter = NewReporter();
        var before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000;

        reporter.ReportScalar("accuracy", 0.5);
        reporter.ReportScalars(("a", 1), ("b", 2), ("c", 3));

        Assert.That(await FakeAgent.WaitForAsync(() => Agent.StoredPoints == 4, seconds: 3), Is.True);
        var points = Agent.Points(JobId);
        Assert.That(points.Select(p => (p.Name, p.Value)), Is.EqualTo(new[] { ("accuracy", 0.5), ("a", 1.0), ("b", 2.0), ("c", 3.0) }));
        Assert.That(points.Select(p => p.WallTimeUs), Has.All.InRange(before - 1000, before + 5_000_000));
    }

    [Test]
    public async Task An_explicit_step_is_sent_with_each_point()
    {
        var reporter = NewReporter();

        reporter.ReportScalar("loss", 0.9, step: 10);
        reporter.ReportScalar("loss", 0.8, step: 20);
        reporter.ReportScalar("lr", 0.01);
        Assert.That(await reporter.FlushAsync(), Is.True);

        var points = Agent.Points(JobId);
        Assert.That(points.Where(p => p.Name == "loss").Select(p => p.Step), Is.EqualTo(new[] { 10L, 20L }));
        Assert.That(points.Single(p => p.Name == "lr").Step, Is.EqualTo(-1), "without a step the agent numbers the points");
        Assert.That(() => reporter.ReportScalar("loss", 1, step: -1), Throws.InstanceOf<ArgumentOutOfRangeException>());
        Assert.That(() => reporter.ReportScalar("", 1), Throws.ArgumentException);
    }

    [TestCase(603, "")]
    [TestCase(0, "   ")]
    [TestCase(0, "bad\u001b[2Jname")]
    [TestCase(0, "nul\0")]
    [TestCase(0, "c1\u0085")]
    public async Task A_name_the_agent_would_refuse_is_refused_at_the_call_and_nothing_of_that_call_is_sent(int length, string name)
    {
        name = length > 0 ? new string('n', length) : name;
        var reporter = NewReporter();

        reporter.ReportScalar("loss", 1);
        Assert.That(() => reporter.ReportScalar(name, 2), Throws.ArgumentException);
        Assert.That(() => reporter.ReportScalar(name, 2, step: 5), Throws.ArgumentException);
        Assert.That(() => reporter.ReportScalars(("loss", 3), (name, 4)), Throws.ArgumentException);
        Assert.That(() => reporter.AddCondition(name, v => v > 1), Throws.ArgumentException);
        reporter.ReportScalar("loss", 5);
        reporter.ReportScalar(new string('n', 512), 6);
        Assert.That(await reporter.FlushAsync(), Is.True);

        Assert.That(Agent.Points(JobId).Select(p => (p.Name, p.Value)),
            Is.EqualTo(new[] { ("loss", 1.0), ("loss", 5.0), (new string('n', 512), 6.0) }), "nothing of a refused call is sent");
    }

    [Test]
    public async Task Reporting_while_the_agent_is_down_never_throws_and_warns_once()
    {
        var missing = Path.Combine(Path.GetDirectoryName(Agent.SocketPath)!, "nobody.sock");
        var reporter = NewReporter(socketPath: missing);

        var started = DateTime.UtcNow;
        for (var i = 0; i < 200_000; i++)
        {
            reporter.ReportScalar("loss", i);
        }
        var reporting = DateTime.UtcNow - started;
        var flushed = await reporter.FlushAsync();
        await reporter.FlushAsync();

        Assert.That(flushed, Is.False);
        Assert.That(reporting, Is.LessThan(TimeSpan.FromSeconds(2)));
        Assert.That(Warnings.Count(w => w.Contains("not reachable")), Is.EqualTo(1), string.Join("\n", Warnings));
    }

    [Test]
    public async Task Scalars_buffered_while_the_agent_is_down_are_delivered_when_it_comes_up()
    {
        await Agent.StopAsync();
        var reporter = NewReporter(configure: o => o.MaxRetryDelay = TimeSpan.FromMilliseconds(500));
        for (var i = 0; i < 10_000; i++)
        {
            reporter.ReportScalar("loss", i);
        }
        Assert.That(await reporter.FlushAsync(), Is.False);

        await Agent.StartAsync();

        Assert.That(await FakeAgent.WaitForAsync(() => Agent.StoredPoints == 10_000, seconds: 10), Is.True);
        Assert.That(Agent.Points(JobId).Select(p => p.Value), Is.EqualTo(Enumerable.Range(0, 10_000).Select(i => (double)i)));
    }

    [Test]
    public async Task A_batch_whose_reply_was_lost_is_retried_with_the_same_sequence_and_stored_once()
    {
        Agent.FailAfterStore.Enqueue(StatusCode.Unavailable);
        var reporter = NewReporter(configure: o => o.InitialRetryDelay = TimeSpan.FromMilliseconds(50));
        for (var i = 0; i < 1000; i++)
        {
            reporter.ReportScalar("loss", i);
        }

        Assert.That(await reporter.FlushAsync(), Is.False, "the first reply was lost");
        reporter.ReportScalar("loss", 1000);
        Assert.That(await reporter.FlushAsync(), Is.True);

        var batches = Agent.Requests<ScalarBatch>("ReportScalars");
        Assert.That(batches[1].Sequence, Is.EqualTo(batches[0].Sequence));
        Assert.That(batches[1].Values, Is.EqualTo(batches[0].Values), "a retried batch carries exactly the same points");
        Assert.That(Agent.Points(JobId).Select(p => p.Value), Is.EqualTo(Enumerable.Range(0, 1001).Select(i => (double)i)));
    }

    [Test]
    public async Task A_batch_refused_because_the_job_ended_is_dropped_with_one_warning()
    {
        Agent.RefuseScalars = StatusCode.FailedPrecondition;
        var reporter = NewReporter();

        reporter.ReportScalar("loss", 1);
        Assert.That(await reporter.FlushAsync(), Is.True, "nothing is left waiting");
        reporter.ReportScalar("loss", 2);
        Assert.That(await reporter.FlushAsync(), Is.True);

        Assert.That(Agent.StoredPoints, Is.Zero);
        Assert.That(reporter.DroppedPoints, Is.EqualTo(2));
        Assert.That(Warnings.Count(w => w.Contains("has ended")), Is.EqualTo(1), string.Join("\n", Warnings));
    }

    [Test]
    public async Task Outside_a_job_scalars_are_dropped_with_one_warning()
    {
        var reporter = NewReporter(jobId: null);

        reporter.ReportScalar("loss", 1);
        reporter.ReportScalar("loss", 2);
        Assert.That(await reporter.NotifyAsync("hello"), Is.False);
        await reporter.FlushAsync();

        Assert.That(Agent.Requests<ScalarBatch>("ReportScalars"), Is.Empty);
        Assert.That(Warnings, Has.Exactly(1).Contains("not running as a Meeshkan job"));
    }

    [Test]
    public async Task When_the_buffer_bound_is_hit_the_oldest_are_dropped_with_one_warning()
    {
        await Agent.StopAsync();
        var reporter = NewReporter(configure: o =>
        {
            o.MaxBatchPoints = 1_000;
            o.MaxBufferedPoints = 10_000;
        });

        for (var i = 0; i < 50_000; i++)
        {
            reporter.ReportScalar("loss", i);
        }
        await reporter.FlushAsync();
        await Agent.StartAsync();
        Assert.That(await reporter.FlushAsync(), Is.True);

        Assert.That(Agent.StoredPoints, Is.InRange(1, 20_000), "at most the bound, twice: taken and not yet taken");
        Assert.That(reporter.DroppedPoints, Is.EqualTo(50_000 - Agent.StoredPoints));
        Assert.That(Warnings, Has.Exactly(1).Contains("scalars are waiting for the agent"));
    }

    [Test]
    public async Task A_notification_is_sent_after_the_scalars_reported_before_it()
    {
        var reporter = NewReporter();

        reporter.ReportScalar("loss", 0.1);
        var delivered = await reporter.NotifyAsync("epoch 3 done");

        Assert.That(delivered, Is.True);
        var notify = Agent.Requests<NotifyRequest>("Notify").Single();
        Assert.That((notify.JobId, notify.Message), Is.EqualTo((JobId, "epoch 3 done")));
        Assert.That(Agent.StoredPoints, Is.EqualTo(1));
        Assert.That(() => reporter.NotifyAsync(""), Throws.ArgumentException);
    }

    [Test]
    public async Task After_dispose_flushing_returns_false_at_once()
    {
        var reporter = NewReporter();
        reporter.ReportScalar("loss", 1);
        await reporter.DisposeAsync();

        var flush = reporter.FlushAsync();

        Assert.That(await flush.WaitAsync(TimeSpan.FromSeconds(1)), Is.False);
        Assert.That(Agent.StoredPoints, Is.EqualTo(1));
    }

    [Test]
    public async Task The_static_facade_reports_to_the_job_and_socket_named_by_the_environment()
    {
        Environment.SetEnvironmentVariable(ScalarReporterOptions.SocketVariable, Agent.SocketPath);
        Environment.SetEnvironmentVariable(ScalarReporterOptions.JobIdVariable, JobId);
        try
        {
            Scalars.Report("facade", 7);
            Scalars.Report("a", 1, "b", 2);
            Assert.That(await Scalars.FlushAsync(), Is.True);
        }
        finally
        {
            Environment.SetEnvironmentVariable(ScalarReporterOptions.SocketVariable, null);
            Environment.SetEnvironmentVariable(ScalarReporterOptions.JobIdVariable, null);
        }

        Assert.That(Scalars.Reporter.JobId, Is.EqualTo(JobId));
        Assert.That(Agent.Points(JobId).Select(p => (p.Name, p.Value)), Is.EqualTo(new[] { ("facade", 7.0), ("a", 1.0), ("b", 2.0) }));
    }
}
