using System.Text.RegularExpressions;
using Meeshkan.Testing;

namespace Meeshkan.Dashboard.Tests;

/// <summary>`meeshkan dashboard` on a data folder whose agent is not running: part of the one dashboard fixture.</summary>
public sealed partial class DashboardTests
{
    [Test, Order(12)]
    public async Task Dashboard_with_no_agent_running_starts_it_and_prints_a_working_login_link()
    {
        using var idle = new MeeshkanSandbox();
        idle.Ok("setup", "--dashboard", "127.0.0.1:0");
        Assert.That(idle.Run("status").ExitCode, Is.EqualTo(3), "no agent yet");

        var output = idle.Ok("dashboard", "--no-browser");
        Assert.That(output, Does.Contain("Meeshkan agent started (pid "), "it says it started the agent");
        Assert.That(idle.Run("status").ExitCode, Is.EqualTo(0), "the agent runs on after the command");
        var link = Regex.Match(output, @"http://127\.0\.0\.1:\d+/login\?token=\S+");
        Assert.That(link.Success, Is.True, output);

        await using var context = await NewContextAsync();
        var page = await context.NewPageAsync();
        await page.GotoAsync(link.Value);
        await page.WaitForSelectorAsync("#jobs");
    }
}
