using System.Text.RegularExpressions;
using Meeshkan.Testing;
using Microsoft.Playwright;

namespace Meeshkan.Dashboard.Tests;

/// <summary>
/// One agent (dashboard on a free port) and one Chromium for every dashboard test: starting them is the slow part.
/// <see cref="Page"/> is logged in through a link from `meeshkan dashboard`, as a user would be.
/// </summary>
public abstract class DashboardFixture
{
    protected MeeshkanSandbox Sandbox { get; private set; } = null!;
    protected IPlaywright Playwright { get; private set; } = null!;
    protected IBrowser Browser { get; private set; } = null!;
    protected IBrowserContext Context { get; private set; } = null!;
    protected IPage Page { get; private set; } = null!;
    protected string Address { get; private set; } = "";
    protected int TlsPort { get; private set; }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static readonly string[] ChromiumArgs =
        ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

    [OneTimeSetUp]
    public async Task StartAgentAndBrowser()
    {
        Sandbox = new MeeshkanSandbox();
        Sandbox.Ok("setup", "--dashboard", "127.0.0.1:0");
        // With the TLS listener for remote CLIs on too: the dashboard is served there as well, and its own
        // listener must not be taken for a remote one.
        TlsPort = FreePort();
        Sandbox.Ok("start", "--listen", $"127.0.0.1:{TlsPort}");
        Playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        Browser = await Playwright.Chromium.LaunchAsync(new() { ExecutablePath = "/usr/bin/chromium", Headless = true, Args = ChromiumArgs });
        var link = LoginLink();
        Address = new Uri(link).GetLeftPart(UriPartial.Authority) + "/";
        Context = await NewContextAsync();
        Page = await Context.NewPageAsync();
        await Page.GotoAsync(link);
        await Page.WaitForSelectorAsync("#jobs");
    }

    [OneTimeTearDown]
    public async Task StopAgentAndBrowser()
    {
        if (Browser is not null)
        {
            await Browser.CloseAsync();
        }
        Playwright?.Dispose();
        Sandbox?.Dispose();
    }

    protected Task<IBrowserContext> NewContextAsync() => Browser.NewContextAsync(new() { ViewportSize = new() { Width = 1400, Height = 1000 } });

    /// <summary>The one-time login link `meeshkan dashboard` prints.</summary>
    protected string LoginLink()
    {
        var output = Sandbox.Ok("dashboard", "--no-browser");
        var match = Regex.Match(output, @"http://127\.0\.0\.1:\d+/login\?token=\S+");
        Assert.That(match.Success, Is.True, output);
        return match.Value;
    }

    /// <summary>Loads the page afresh at a route (#/job/3): nothing of the page before stays.</summary>
    protected async Task OpenAsync(string route)
    {
        await Page.GotoAsync($"{Address}?load={Guid.NewGuid():N}{route}");
        await Page.Locator("#app[data-page]").WaitForAsync();
    }

    /// <summary>A Python script in the work folder, run with Debian's Python (it has grpcio).</summary>
    protected long SubmitPython(string name, string script, params string[] args)
    {
        var path = Sandbox.WriteFile($"{Guid.NewGuid():N}.py", "import meeshkan, math, sys, time\n" + script);
        return Sandbox.Submit(["--name", name, path, .. args]);
    }

    protected static async Task WaitForAsync(Func<Task<bool>> condition, string what, int seconds = 20)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(seconds))
        {
            if (await condition())
            {
                return;
            }
            await Task.Delay(100);
        }
        Assert.Fail($"timed out after {seconds} s waiting for {what}");
    }
}
