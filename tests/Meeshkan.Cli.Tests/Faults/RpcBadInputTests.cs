using Grpc.Core;
using Grpc.Net.Client;
using Meeshkan.Testing;
using Meeshkan.V1;

namespace Meeshkan.Cli.Tests.Faults;

/// <summary>
/// Any program can call the agent: bad calls made with a raw gRPC client (not the SDK, so the agent's own checks are
/// what is tested) get the right status code and a clear one-line message, the agent stays healthy, and nothing of
/// the refused call is stored.
/// </summary>
[TestFixture]
public sealed class RpcBadInputTests : SandboxFixture
{
    private GrpcChannel _channel = null!;
    private JobService.JobServiceClient _jobs = null!;
    private ReportService.ReportServiceClient _reports = null!;
    private string _jobId = null!;

    [OneTimeSetUp]
    public void StartJob()
    {
        _channel = FaultKit.Channel(Sandbox);
        _jobs = new JobService.JobServiceClient(_channel);
        _reports = new ReportService.ReportServiceClient(_channel);
        var number = Sandbox.Submit("sleep", "3600");
        _jobId = Sandbox.WaitForState(number, TimeSpan.FromSeconds(60), "RUNNING").Id;
    }

    [OneTimeTearDown]
    public void CloseChannel() => _channel.Dispose();

    private static readonly DateTime NoDeadline = DateTime.MaxValue;

    private ScalarBatch Batch(params (string Name, double Value)[] points) => ScalarBatches.Of(_jobId, points);

    private GetReportResponse Report() => _jobs.GetReport(new GetReportRequest { Identifier = _jobId });

    /// <summary>The call fails with <paramref name="code"/> and a clear message; afterwards the agent answers and the job's state is as before.</summary>
    private void Refused(Action call, StatusCode code, string message)
    {
        FaultCounts.BadInput();
        var jobsBefore = _jobs.ListJobs(new ListJobsRequest()).ToString();
        var reportBefore = Report().ToString();
        var error = FaultKit.Throws(call);
        Assert.That(error.StatusCode, Is.EqualTo(code), error.Status.Detail);
        Assert.That(error.Status.Detail, Does.Contain(message));
        FaultKit.AssertOneLine(error.Status.Detail, "the message");
        Assert.That(error.Status.Detail.Length, Is.LessThan(600), "short, even for huge input");
        FaultKit.Healthy(_channel);
        Assert.That(_jobs.ListJobs(new ListJobsRequest()).ToString(), Is.EqualTo(jobsBefore), "no job changed");
        Assert.That(Report().ToString(), Is.EqualTo(reportBefore), "no scalar or condition stored");
        FaultCounts.Checked(2);
    }

    [Test]
    public void Empty_and_10000_character_scalar_names_are_refused()
    {
        Refused(() => _reports.ReportScalars(Batch(("", 1))), StatusCode.InvalidArgument, "empty");
        Refused(() => _reports.ReportScalars(Batch(("   ", 1))), StatusCode.InvalidArgument, "empty");
        Refused(() => _reports.ReportScalars(Batch((new string('n', 10_000), 1))), StatusCode.InvalidArgument, "at most 512");
        // A batch with good points besides the bad one stores the good ones (ScalarNameTests); one of bad points only stores nothing.
        Refused(() => _reports.ReportScalars(Batch(("bad\u001b[2Jname", 2))), StatusCode.InvalidArgument, "control characters");
        Refused(() => _reports.ReportScalars(Batch(("ok\0", 2), ("bad\u001b[2Jname", 3))), StatusCode.InvalidArgument, "control characters");
    }

    [Test]
    public void NaN_and_infinities_are_kept()
    {
        FaultCounts.BadInput(3);
        var values = new[] { double.NaN, double.PositiveInfinity, double.NegativeInfinity, 1.5 };
        _reports.ReportScalars(Batch(values.Select(v => ("odd values", v)).ToArray()));
        var history = _jobs.GetReport(new GetReportRequest { Identifier = _jobId, HistoryName = "odd values" }).History;
        Assert.That(history.Select(p => p.Value), Is.EqualTo(values));
        Assert.That(history.Select(p => p.Step), Is.EqualTo(new long[] { 0, 1, 2, 3 }));
        FaultCounts.Checked(values.Length);
    }

    [Test]
    public void A_batch_over_the_message_size_limit_is_refused()
    {
        // 9 million doubles: 72 MB packed, over the agent's 64 MiB limit.
        var batch = new ScalarBatch { JobId = _jobId, Names = { "huge" } };
        batch.Values.AddRange(Enumerable.Repeat(0.5, 9_000_000));
        batch.NameIndex.AddRange(Enumerable.Repeat(0u, 9_000_000));
        Refused(() => _reports.ReportScalars(batch, deadline: DateTime.UtcNow.AddMinutes(5)), StatusCode.ResourceExhausted, "");
    }

    [Test]
    public void A_million_distinct_names_are_refused_beyond_the_per_job_limit_and_nothing_is_half_stored()
    {
        // A job of its own (registered, as as_blocking_job does), so the other tests' names still fit.
        var jobId = _reports.RegisterJob(new RegisterJobRequest { Name = "many-names", Pid = Environment.ProcessId }).Id;
        GetReportResponse Names() => _jobs.GetReport(new GetReportRequest { Identifier = jobId });
        var million = new ScalarBatch { JobId = jobId };
        for (var i = 0; i < 1_000_000; i++)
        {
            million.Names.Add($"m{i}");
            million.NameIndex.Add((uint)i);
            million.Values.Add(i);
        }
        Refused(() => _reports.ReportScalars(million, deadline: DateTime.UtcNow.AddMinutes(5)), StatusCode.ResourceExhausted, "10000");
        Assert.That(Names().Scalars, Is.Empty, "nothing of the refused batch was stored");

        // None of the refused batch's names count against the limit: 10,000 new ones still fit.
        var before = Names().Scalars.Count;
        var limit = new ScalarBatch { JobId = jobId };
        for (var i = 0; i < 10_000 - before; i++)
        {
            limit.Names.Add($"k{i}");
            limit.NameIndex.Add((uint)i);
            limit.Values.Add(i);
        }
        Assert.That(_reports.ReportScalars(limit).Accepted, Is.EqualTo(10_000 - before));
        Assert.That(Names().Scalars, Has.Count.EqualTo(10_000));
        FaultCounts.Checked(10_000);
        Refused(() => _reports.ReportScalars(new ScalarBatch { JobId = jobId, Names = { "one too many" }, NameIndex = { 0 }, Values = { 1 } }), StatusCode.ResourceExhausted, "10000");
        // Names the job has may still be reported.
        Assert.That(_reports.ReportScalars(new ScalarBatch { JobId = jobId, Names = { "k0" }, NameIndex = { 0 }, Values = { 2 } }).Accepted, Is.EqualTo(1));
    }

    [Test]
    public void Unknown_and_missing_job_ids_are_refused()
    {
        Refused(() => _reports.ReportScalars(new ScalarBatch { JobId = Guid.NewGuid().ToString(), Names = { "x" }, NameIndex = { 0 }, Values = { 1 } }),
            StatusCode.NotFound, "no job has id");
        Refused(() => _reports.ReportScalars(new ScalarBatch { JobId = "'; DROP TABLE jobs; --", Names = { "x" }, NameIndex = { 0 }, Values = { 1 } }),
            StatusCode.NotFound, "no job has id");
        Refused(() => _reports.ReportScalars(new ScalarBatch { Names = { "x" }, NameIndex = { 0 }, Values = { 1 } }), StatusCode.InvalidArgument, "job_id is missing");
        Refused(() => _reports.AddCondition(new AddConditionRequest { Expression = "x > 1" }), StatusCode.InvalidArgument, "job_id is missing");
        Refused(() => _reports.Notify(new NotifyRequest { JobId = Guid.NewGuid().ToString(), Message = "hi" }), StatusCode.NotFound, "no job has id");
        Refused(() => _reports.FinishJob(new FinishJobRequest { JobId = Guid.NewGuid().ToString(), Success = true }), StatusCode.NotFound, "no job has id");
        Refused(() => _jobs.GetJob(new GetJobRequest { Identifier = Guid.NewGuid().ToString() }), StatusCode.NotFound, "no job matches");
        Refused(() => _jobs.GetJob(new GetJobRequest { Identifier = "" }), StatusCode.InvalidArgument, "give a job");
        Refused(() => _jobs.CancelJob(new CancelJobRequest { Identifier = "" }), StatusCode.InvalidArgument, "give a job");
        Refused(() => _jobs.StreamLogs(new StreamLogsRequest { Identifier = "99999" }).ResponseStream.MoveNext().GetAwaiter().GetResult(),
            StatusCode.NotFound, "no job matches");
        Refused(() => _jobs.GetReport(new GetReportRequest { Identifier = _jobId, HistoryName = "never reported" }), StatusCode.NotFound, "no scalar named");
    }

    [TestCase("loss >")]
    [TestCase("((loss > 1)")]
    [TestCase("loss +* 2 > 1")]
    [TestCase("loss + 1")]
    [TestCase("[unclosed > 1")]
    [TestCase("   ")]
    public void Malformed_condition_expressions_are_refused(string expression) =>
        Refused(() => _reports.AddCondition(new AddConditionRequest { JobId = _jobId, Expression = expression }), StatusCode.InvalidArgument, "");

    [Test]
    public void A_huge_condition_expression_is_refused() =>
        Refused(() => _reports.AddCondition(new AddConditionRequest { JobId = _jobId, Expression = string.Concat(Enumerable.Repeat("a + ", 50_000)) + "a > 1" }),
            StatusCode.InvalidArgument, "characters long");

    [Test]
    public void Calls_with_missing_or_inconsistent_fields_are_refused()
    {
        Refused(() => _jobs.SubmitJob(new SubmitJobRequest()), StatusCode.InvalidArgument, "");
        Refused(() => _jobs.SubmitJob(new SubmitJobRequest { Command = { "" } }), StatusCode.InvalidArgument, "");
        Refused(() => _jobs.SubmitJob(new SubmitJobRequest { Command = { "true" }, ReportIntervalSeconds = -5 }), StatusCode.InvalidArgument, "positive");
        Refused(() => _jobs.SubmitJobs(new SubmitJobsRequest { Jobs = { new SubmitJobRequest { Command = { "true" } }, new SubmitJobRequest() } }),
            StatusCode.InvalidArgument, "");
        Refused(() => _reports.RegisterJob(new RegisterJobRequest { Name = "x", ReportIntervalSeconds = -1 }), StatusCode.InvalidArgument, "positive");
        Refused(() => _reports.RegisterJob(new RegisterJobRequest { Name = "a\nb" }), StatusCode.InvalidArgument, "control characters");

        var outOfRange = Batch(("a", 1));
        outOfRange.NameIndex[0] = 7;
        Refused(() => _reports.ReportScalars(outOfRange), StatusCode.InvalidArgument, "out of range");
        var fewerIndexes = Batch(("a", 1), ("a", 2));
        fewerIndexes.NameIndex.RemoveAt(1);
        Refused(() => _reports.ReportScalars(fewerIndexes), StatusCode.InvalidArgument, "must match");
        var steps = Batch(("a", 1), ("a", 2));
        steps.Steps.Add(5);
        Refused(() => _reports.ReportScalars(steps), StatusCode.InvalidArgument, "steps has 1 entries for 2 values");
        var times = Batch(("a", 1));
        times.WallTimeUs.AddRange([1, 2, 3]);
        Refused(() => _reports.ReportScalars(times), StatusCode.InvalidArgument, "wall_time_us");
        var twice = Batch(("a", 1));
        twice.Names.Add("a");
        Refused(() => _reports.ReportScalars(twice), StatusCode.InvalidArgument, "appears twice");

        Refused(() => _reports.AddCondition(new AddConditionRequest { JobId = _jobId, Expression = "a > 1", CooldownSeconds = -1 }), StatusCode.InvalidArgument, "cooldown");
        Refused(() => _reports.AddCondition(new AddConditionRequest { JobId = _jobId, EvaluatedByClient = true }), StatusCode.InvalidArgument, "names");
        Refused(() => _reports.ReportConditionMet(new ConditionMetRequest { JobId = _jobId, ConditionId = "no-such-condition" }), StatusCode.NotFound, "");
        Refused(() => _reports.Notify(new NotifyRequest { JobId = _jobId }), StatusCode.InvalidArgument, "empty");
        Refused(() => _reports.Notify(new NotifyRequest { JobId = _jobId, Message = new string('x', 5000) }), StatusCode.InvalidArgument, "4000");
        Refused(() => _reports.FinishJob(new FinishJobRequest { JobId = _jobId, Success = true }), StatusCode.FailedPrecondition, "ends when its process exits");
    }

    [Test]
    public void A_good_call_after_all_of_it_is_stored()
    {
        var reply = _reports.ReportScalars(Batch(("after bad input", 1), ("after bad input", 2)));
        Assert.That(reply.Accepted, Is.EqualTo(2));
        var history = _jobs.GetReport(new GetReportRequest { Identifier = _jobId, HistoryName = "after bad input" }).History;
        Assert.That(history.Select(p => p.Value), Is.EqualTo(new[] { 1.0, 2.0 }));
        FaultCounts.Checked(2);
    }
}
