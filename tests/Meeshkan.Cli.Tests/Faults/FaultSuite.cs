using Meeshkan.Testing;

namespace Meeshkan.Cli.Tests.Faults;

/// <summary>Prints the suite's counts once every test in this namespace has run.</summary>
[SetUpFixture]
public sealed class FaultSuite
{
    [OneTimeTearDown]
    public void PrintSummary()
    {
        var line = FaultCounts.Summary;
        Console.WriteLine(line);
        TestContext.Progress.WriteLine(line);
        var folder = Path.Combine(MeeshkanSandbox.RepoRoot, "artifacts", "test-results");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "fault-summary.txt"), line + "\n");
    }
}
