using Grpc.Core;
using Meeshkan.Testing;
using Meeshkan.V1;

namespace Meeshkan.Cli.Tests.Faults;

/// <summary>
/// One bad scalar name never costs the good ones (issue 14.4): the Python client refuses it at the call, and the agent,
/// given a batch with a bad point by any client, refuses that point alone and stores every good one at its true step.
/// </summary>
[TestFixture]
public sealed class ScalarNameTests
{
    [Test]
    public void A_python_job_reporting_one_bad_name_among_a_thousand_good_points_loses_none_and_shifts_no_step()
    {
        using var sandbox = new MeeshkanSandbox();
        sandbox.Start();
        sandbox.WriteFile("bad_name.py", """
            import meeshkan
            refused = 0
            for i in range(1000):
                meeshkan.report_scalar("loss", float(i))
                if i == 500:
                    try:
                        meeshkan.report_scalar("n" * 603, 1.0)
                    except ValueError as error:
                        refused += 1
                        print("refused:", error)
            meeshkan.flush()
            print("refused", refused)
            """);
        var number = sandbox.Submit("bad_name.py");
        var job = sandbox.WaitForEnd(number, 120);
        Assert.That(job.State, Is.EqualTo("FINISHED"), sandbox.Ok("logs", number.ToString()));
        var logs = sandbox.Ok("logs", number.ToString());
        Assert.That(logs, Does.Contain("refused 1").And.Contain("603 characters long"), "ValueError at the call");

        FaultCounts.BadInput();
        var history = FaultKit.History(sandbox, number, "loss");
        Assert.That(history, Has.Count.EqualTo(1000));
        Assert.That(history, Is.EqualTo(Enumerable.Range(0, 1000).Select(i => ((long)i, (double)i)).ToList()), "each value at its own step");
        FaultCounts.Checked(1000);
    }

    [Test]
    public void A_raw_batch_with_bad_points_has_them_refused_with_a_clear_status_and_every_good_point_stored_at_its_step()
    {
        using var sandbox = new MeeshkanSandbox();
        sandbox.Start();
        var number = sandbox.Submit("sleep", "3600");
        var jobId = sandbox.WaitForState(number, TimeSpan.FromSeconds(60), "RUNNING").Id;
        using var channel = FaultKit.Channel(sandbox);
        var reports = new ReportService.ReportServiceClient(channel);

        // 1,000 "loss" points with agent-numbered steps, one 603-character name and one control character in between.
        var batch = new ScalarBatch { JobId = jobId, Names = { "loss", new string('n', 603), "bad\u001b[2J" }, ClientId = "raw", Sequence = 1 };
        for (var i = 0; i < 1000; i++)
        {
            batch.NameIndex.Add(0);
            batch.Values.Add(i);
            if (i is 300 or 700)
            {
                batch.NameIndex.Add(i == 300 ? 1u : 2u);
                batch.Values.Add(-1);
            }
        }
        FaultCounts.BadInput(2);
        var error = FaultKit.Throws(() => reports.ReportScalars(batch));
        Assert.That(error.StatusCode, Is.EqualTo(StatusCode.InvalidArgument));
        Assert.That(error.Status.Detail, Does.Contain("2 of 1002 points refused").And.Contain("603 characters long").And.Contain("other 1000 are stored"));
        FaultKit.AssertOneLine(error.Status.Detail, "the refusal");

        // A retry of the same batch stores nothing twice; the next batch goes on at step 1000.
        Assert.That(() => reports.ReportScalars(batch), Throws.InstanceOf<RpcException>());
        reports.ReportScalars(new ScalarBatch { JobId = jobId, Names = { "loss" }, NameIndex = { 0 }, Values = { 1000 }, ClientId = "raw", Sequence = 2 });

        var history = FaultKit.History(sandbox, number, "loss");
        Assert.That(history, Is.EqualTo(Enumerable.Range(0, 1001).Select(i => ((long)i, (double)i)).ToList()));
        var report = sandbox.Ok("report", number.ToString());
        Assert.That(report, Does.Not.Contain("nnnnnnnnnn"), "the bad names are not stored");
        FaultCounts.Checked(1001);
    }
}
