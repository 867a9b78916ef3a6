using Meeshkan.Cli.Tests.Faults;
using Meeshkan.Testing;

namespace Meeshkan.Cli.Tests;

/// <summary>
/// A job that ends while the agent is stopped: what its client could not deliver goes to its job folder
/// (unsent-scalars), and the next agent stores it, exactly once, when it records the job's end.
/// </summary>
[TestFixture]
public sealed class UnsentScalarsTests
{
    [Test]
    public void A_python_job_reporting_20000_points_across_stop_and_start_loses_nothing()
    {
        using var sandbox = new MeeshkanSandbox();
        sandbox.Start();
        var half = Path.Combine(sandbox.WorkDir, "half");
        var release = Path.Combine(sandbox.WorkDir, "release");
        sandbox.WriteFile("train.py", $$"""
            import os, time
            import meeshkan
            for i in range(10_000):
                meeshkan.report_scalar("loss", i)
            print("first half delivered", meeshkan.flush(30), flush=True)
            open({{Quote(half)}}, "w").close()
            while not os.path.exists({{Quote(release)}}):
                time.sleep(0.02)
            for i in range(10_000, 20_000):
                meeshkan.report_scalar("loss", i)
            """);
        var number = sandbox.Submit("train.py");
        var pid = sandbox.WaitForState(number, TimeSpan.FromSeconds(30), "RUNNING").Pid;
        FaultKit.WaitFor(() => File.Exists(half), "the first half delivered");
        sandbox.Ok("stop");
        File.WriteAllText(release, "");
        FaultKit.WaitFor(() => !FaultKit.Alive(pid), "the job to exit while no agent runs");
        var folder = Path.Combine(sandbox.Home, "jobs", number.ToString(System.Globalization.CultureInfo.InvariantCulture));
        // (The file may be gone already if the job's last call beat `stop`; the stderr line below says which path ran.)

        sandbox.Start();
        var job = sandbox.WaitForEnd(number);
        var logs = sandbox.Run("logs", number.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.That(job.State, Is.EqualTo("FINISHED"), logs.ToString());
        Assert.That(logs.Stdout, Does.Contain("first half delivered True"));
        Assert.That(logs.Stderr, Does.Contain("10,000 scalars were written to").And.Not.Contain("could not be sent"), logs.ToString());
        AssertEveryPoint(sandbox, number, "loss", Enumerable.Range(0, 20_000).Select(i => (double)i));
        Assert.That(File.Exists(Path.Combine(folder, "unsent-scalars")), Is.False, "ingested, then removed");

        // Exactly once: the same batches ingested again (a crash between storing and removing) add nothing.
        sandbox.Ok("stop");
        sandbox.Start();
        AssertEveryPoint(sandbox, number, "loss", Enumerable.Range(0, 20_000).Select(i => (double)i));
    }

    [Test]
    public void A_batch_stored_before_and_spilled_again_is_stored_once_and_a_cut_off_tail_is_ignored()
    {
        using var sandbox = new MeeshkanSandbox();
        sandbox.Start();
        var release = Path.Combine(sandbox.WorkDir, "release");
        // The job delivers 100 points, then (agent stopped) spills 100 more; the test then appends a copy of the whole
        // file (as a client whose reply was lost would) and half a batch (as a kill in mid-write would).
        sandbox.WriteFile("twice.py", $$"""
            import os, time
            import meeshkan
            for i in range(100):
                meeshkan.report_scalar("x", i)
            meeshkan.flush(30)
            print("ready", flush=True)
            while not os.path.exists({{Quote(release)}}):
                time.sleep(0.02)
            for i in range(100, 200):
                meeshkan.report_scalar("x", i)
            """);
        var number = sandbox.Submit("twice.py");
        var pid = sandbox.WaitForState(number, TimeSpan.FromSeconds(30), "RUNNING").Pid;
        FaultKit.WaitFor(() => sandbox.Run("logs", number.ToString(System.Globalization.CultureInfo.InvariantCulture)).Stdout.Contains("ready"), "the first points");
        sandbox.Ok("stop");
        File.WriteAllText(release, "");
        FaultKit.WaitFor(() => !FaultKit.Alive(pid), "the job to exit");
        var file = Path.Combine(sandbox.Home, "jobs", number.ToString(System.Globalization.CultureInfo.InvariantCulture), "unsent-scalars");
        var bytes = File.ReadAllBytes(file);
        File.WriteAllBytes(file, [.. bytes, .. bytes, .. bytes[..(bytes.Length / 2)]]);

        sandbox.Start();
        Assert.That(sandbox.WaitForEnd(number).State, Is.EqualTo("FINISHED"));
        AssertEveryPoint(sandbox, number, "x", Enumerable.Range(0, 200).Select(i => (double)i));
    }

    [Test]
    public void A_csharp_job_that_ends_while_the_agent_is_stopped_loses_nothing()
    {
        var example = MeeshkanSandbox.CSharpExample;
        if (!File.Exists(example))
        {
            Assert.Ignore($"the C# example is not built ({example}): dotnet build examples/dotnet/ReportExample");
        }
        using var sandbox = new MeeshkanSandbox();
        sandbox.Start();
        var number = sandbox.Submit(example);
        var pid = sandbox.WaitForState(number, TimeSpan.FromSeconds(60), "RUNNING").Pid;
        FaultKit.WaitFor(() => FaultKit.History(sandbox, number, "train loss").Count > 0, "the first points");
        sandbox.Ok("stop");
        FaultKit.WaitFor(() => !FaultKit.Alive(pid), "the job to exit while no agent runs");

        sandbox.Start();
        var job = sandbox.WaitForEnd(number);
        var logs = sandbox.Run("logs", number.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.That(job.State, Is.EqualTo("FINISHED"), logs.ToString());
        // Its custom notification and condition firings are not kept: notifications about a job that has ended.
        Assert.That(logs.Stderr, Does.Contain("scalars were written to").And.Contain(" 0 scalars and"), logs.ToString());
        // The example reports exp(-step / 50) for steps 0..199 (examples/dotnet/ReportExample/Program.cs).
        AssertEveryPoint(sandbox, number, "train loss", Enumerable.Range(0, 200).Select(step => Math.Exp(-step / 50.0)));
    }

    private static void AssertEveryPoint(MeeshkanSandbox sandbox, long number, string name, IEnumerable<double> expected) =>
        Assert.That(FaultKit.History(sandbox, number, name).Select(p => p.Value).ToList(), Is.EqualTo(expected.ToList()),
            "every point, once, in order");

    private static string Quote(string path) => "'" + path.Replace("'", "\\'") + "'";
}
