using System.Text;
using Meeshkan.Testing;

namespace Meeshkan.Cli.Tests.Faults;

/// <summary>
/// The clients keep scalars while the agent is away (stop + start, kill -9) and deliver them when it is back:
/// every value reported is in the job's history afterwards, exactly once.
/// </summary>
[TestFixture]
public sealed class ClientBufferingTests
{
    [Test]
    public void Python_client_loses_no_scalar_across_agent_restarts_and_kill_9()
    {
        using var sandbox = new MeeshkanSandbox();
        sandbox.Start();
        var stop = Path.Combine(sandbox.WorkDir, "stop-reporting");
        sandbox.WriteFile("reporter.py", $$"""
            import os, sys, time
            import meeshkan
            n = 0
            while not os.path.exists({{Py(stop)}}):
                meeshkan.report_scalar("value", float(n))
                n += 1
                if n % 5 == 0:
                    time.sleep(0.01)  # a few hundred scalars a second, for as long as the test runs
            print("reported", n, "flushed", meeshkan.flush(300))
            """);
        var number = sandbox.Submit("reporter.py");
        sandbox.WaitForState(number, TimeSpan.FromSeconds(60), "RUNNING");
        WaitForMorePoints(sandbox, number, 0);

        FaultKit.Restart(sandbox);
        WaitForMorePoints(sandbox, number, FaultKit.History(sandbox, number, "value").Count);
        FaultKit.Stop(sandbox);
        Thread.Sleep(1500); // the client reports into its buffer meanwhile
        sandbox.Start();
        WaitForMorePoints(sandbox, number, FaultKit.History(sandbox, number, "value").Count);
        FaultKit.KillAgent(sandbox);
        Thread.Sleep(1500);
        sandbox.Start();
        WaitForMorePoints(sandbox, number, FaultKit.History(sandbox, number, "value").Count);
        File.WriteAllText(stop, "");

        var ended = sandbox.WaitForEnd(number, 300);
        var logs = sandbox.Run("logs", number.ToString());
        Assert.That(ended.State, Is.EqualTo("FINISHED"), logs.ToString());
        var words = logs.Stdout.Trim().Split(' ');
        Assert.That(words[0], Is.EqualTo("reported"), logs.ToString());
        var reported = int.Parse(words[1], System.Globalization.CultureInfo.InvariantCulture);
        Assert.That(words[3], Is.EqualTo("True"), "the client's final flush reached the agent");
        Assert.That(logs.Stderr, Does.Not.Contain("dropping").And.Not.Contain("could not be sent"), "no data-loss warning");
        AssertExactly(FaultKit.History(sandbox, number, "value"), Enumerable.Range(0, reported).Select(i => (double)i).ToList(), "python");
    }

    [Test]
    public void CSharp_client_loses_no_scalar_across_agent_restarts_and_kill_9()
    {
        var example = MeeshkanSandbox.CSharpExample;
        if (!File.Exists(example))
        {
            Assert.Ignore($"the C# example is not built ({example}): dotnet build examples/dotnet/ReportExample");
        }
        using var sandbox = new MeeshkanSandbox();
        sandbox.Start();
        var number = sandbox.Submit(example);
        sandbox.WaitForState(number, TimeSpan.FromSeconds(60), "RUNNING");
        WaitForMorePoints(sandbox, number, 0, "train loss");
        FaultKit.Restart(sandbox);
        FaultKit.KillAgent(sandbox);
        Thread.Sleep(1500);
        sandbox.Start();

        var ended = sandbox.WaitForEnd(number, 300);
        var logs = sandbox.Run("logs", number.ToString());
        Assert.That(ended.State, Is.EqualTo("FINISHED"), logs.ToString());
        // The example reports exp(-step / 50) for steps 0..199 (examples/dotnet/ReportExample/Program.cs).
        var expected = Enumerable.Range(0, 200).Select(step => Math.Exp(-step / 50.0)).ToList();
        AssertExactly(FaultKit.History(sandbox, number, "train loss"), expected, "c#");
    }

    [Test]
    public void Python_client_says_when_the_agent_refuses_a_batch_and_keeps_reporting()
    {
        using var sandbox = new MeeshkanSandbox();
        sandbox.Start();
        // One batch with more distinct names than a job may have: refused (RESOURCE_EXHAUSTED), which is not the
        // agent being away; later scalars must still arrive.
        sandbox.WriteFile("names.py", """
            import meeshkan
            for i in range(10_001):
                meeshkan.report_scalar(f"n{i}", 1.0)
            print("first", meeshkan.flush(60))
            meeshkan.report_scalar("after", 2.0)
            print("second", meeshkan.flush(60))
            """);
        var number = sandbox.Submit("names.py");
        sandbox.WaitForEnd(number, 300);
        var logs = sandbox.Run("logs", number.ToString());
        FaultCounts.BadInput();
        Assert.That(logs.Stdout, Does.Contain("second True"), logs.ToString());
        Assert.That(logs.Stderr, Does.Contain("10000 distinct scalar names").And.Not.Contain("not reachable"), "the refusal is named as such");
        Assert.That(FaultKit.History(sandbox, number, "after").Select(p => p.Value), Is.EqualTo(new[] { 2.0 }));
        FaultCounts.Checked();
    }

    private static void AssertExactly(List<(long Step, double Value)> history, List<double> expected, string client)
    {
        var stored = history.Select(p => p.Value).ToList();
        var missing = expected.Except(stored).Count();
        FaultCounts.Checked(expected.Count);
        FaultCounts.Lost(missing);
        Assert.That(missing, Is.Zero, $"{client}: acknowledged scalars missing from the history");
        Assert.That(stored, Has.Count.EqualTo(expected.Count), $"{client}: each stored once");
        Assert.That(stored, Is.EquivalentTo(expected));
        Assert.That(history.Select(p => p.Step), Is.EqualTo(Enumerable.Range(0, expected.Count).Select(i => (long)i)),
            $"{client}: steps 0..N-1 with no gap");
    }

    private static void WaitForMorePoints(MeeshkanSandbox sandbox, long job, int than, string name = "value") =>
        FaultKit.WaitFor(() => FaultKit.History(sandbox, job, name).Count > than, $"more than {than} points of {name}");

    private static string Py(string path) => "'" + path.Replace("\\", "\\\\").Replace("'", "\\'") + "'";
}
