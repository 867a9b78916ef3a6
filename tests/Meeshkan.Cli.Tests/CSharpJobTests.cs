using System.Globalization;
using System.Text.Json;
using Meeshkan.Testing;

namespace Meeshkan.Cli.Tests;

/// <summary>A C# program using the SDK (examples/dotnet/ReportExample), run as a job.</summary>
[TestFixture]
public sealed class CSharpJobTests
{
    [Test]
    public void The_csharp_example_reports_as_a_submitted_job()
    {
        using var sandbox = new MeeshkanSandbox();
        sandbox.Start();
        var example = MeeshkanSandbox.CSharpExample;
        var number = sandbox.Submit("-n", "csharp-example", "-r", "10", example);
        var job = sandbox.WaitForEnd(number, seconds: 120);
        Assert.That(job.State, Is.EqualTo("FINISHED"), sandbox.Run("logs", number.ToString(CultureInfo.InvariantCulture)).ToString());

        using var report = JsonDocument.Parse(sandbox.Ok("report", "csharp-example", "--json"));
        var counts = report.RootElement.GetProperty("scalars").EnumerateArray()
            .ToDictionary(s => s.GetProperty("name").GetString()!, s => s.GetProperty("count").GetString());
        Assert.That(counts, Is.EquivalentTo(new Dictionary<string, string?> { ["train loss"] = "200", ["evaluation loss"] = "200" }));
        var conditions = report.RootElement.GetProperty("conditionEvents").EnumerateArray().Select(e => e.GetProperty("description").GetString()).ToList();
        Assert.That(conditions, Has.Some.Contains("evaluation - train > 0.2"), "the lambda condition fired");
        Assert.That(conditions, Has.Some.Contains("[train loss] < 0.05"), "the expression condition fired");
        Assert.That(sandbox.Ok("notifications", "csharp-example"), Does.Contain("ReportExample finished 200 steps"));
    }
}
