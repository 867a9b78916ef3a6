using System.Net;
using Microsoft.Playwright;

namespace Meeshkan.Dashboard.Tests;

/// <summary>What a user sees and does in the dashboard, in a real Chromium against a real agent.</summary>
[TestFixture]
[NonParallelizable]
public sealed partial class DashboardTests : DashboardFixture
{
    private const string Xss = "<img src=x onerror=alert(1)>";

    [Test, Order(1)]
    public async Task Without_the_token_there_is_no_data()
    {
        var job = SubmitPython("secret-job-name", "print('hi')");
        await using var stranger = await NewContextAsync();
        var page = await stranger.NewPageAsync();
        await page.GotoAsync(Address);
        await page.WaitForSelectorAsync("#login-needed");
        Assert.That(await page.ContentAsync(), Does.Not.Contain("secret-job-name"));

        foreach (var path in new[] { "api/jobs", $"api/jobs/{job}", $"api/jobs/{job}/log?stream=stdout", "api/events" })
        {
            var response = await stranger.APIRequest.GetAsync(Address + path);
            Assert.That(response.Status, Is.EqualTo(401), path);
            Assert.That(await response.TextAsync(), Does.Not.Contain("secret-job-name"), path);
        }
        var wrong = await stranger.APIRequest.GetAsync(Address + "login?token=not-the-token", new() { MaxRedirects = 0 });
        Assert.That(wrong.Status, Is.EqualTo(403));
        var forged = await stranger.APIRequest.GetAsync(Address + "api/jobs", new() { Headers = new Dictionary<string, string> { ["Cookie"] = "meeshkan_session=a.1.b" } });
        Assert.That(forged.Status, Is.EqualTo(401));
        var log = File.ReadAllText(Path.Combine(Sandbox.Home, "logs", "agent.log"));
        Assert.That(log, Does.Contain("Refused dashboard request /login"));
        Assert.That(log, Does.Not.Contain("not-the-token"));
    }

    [Test, Order(2)]
    public async Task The_login_link_works_once_and_sets_an_HttpOnly_SameSite_Strict_cookie()
    {
        var link = LoginLink();
        await using var context = await NewContextAsync();
        var page = await context.NewPageAsync();
        await page.GotoAsync(link);
        await page.WaitForSelectorAsync("#jobs");
        Assert.That(page.Url, Does.Not.Contain("token="), "the code leaves the address bar");
        var cookie = (await context.CookiesAsync()).Single(c => c.Name == "meeshkan_session");
        Assert.That(cookie.HttpOnly, Is.True);
        Assert.That(cookie.SameSite, Is.EqualTo(SameSiteAttribute.Strict));
        Assert.That(await page.EvaluateAsync<string>("document.cookie"), Does.Not.Contain("meeshkan_session"));

        await using var other = await NewContextAsync();
        var again = await other.APIRequest.GetAsync(link, new() { MaxRedirects = 0 });
        Assert.That(again.Status, Is.EqualTo(403), "a login code works once");

        // A change without the page's CSRF token is refused even with the cookie.
        var job = SubmitPython("csrf-target", "time.sleep(30)");
        var refused = await context.APIRequest.PostAsync(Address + $"api/jobs/{job}/cancel");
        Assert.That(refused.Status, Is.EqualTo(403));
        Assert.That(Sandbox.Job(job)!.State, Is.Not.EqualTo("CANCELED"));
        Sandbox.Ok("cancel", "-y", job.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Test, Order(3)]
    public async Task The_jobs_page_shows_a_job_submitted_after_it_opened_and_renders_names_as_text()
    {
        await OpenAsync("#/");
        await Page.WaitForSelectorAsync("#jobs");
        var alerts = 0;
        Page.Dialog += (_, dialog) => { alerts++; _ = dialog.DismissAsync(); };
        var job = SubmitPython(Xss, "print('x')");
        var row = Page.Locator($"#jobs-body tr[data-number='{job}']");
        await row.WaitForAsync(new() { Timeout = 10_000 });
        Assert.That(await row.Locator(".job-name").TextContentAsync(), Is.EqualTo(Xss));
        Assert.That(await Page.Locator("#jobs-body img").CountAsync(), Is.EqualTo(0));
        await WaitForAsync(async () => await row.GetAttributeAsync("data-state") == "FINISHED", "the row to turn FINISHED live");

        await Page.FillAsync("#filter-name", "img src");
        Assert.That(await Page.Locator("#jobs-body tr[data-number]").CountAsync(), Is.EqualTo(1));
        await Page.FillAsync("#filter-name", "");
        await Page.SelectOptionAsync("#filter-state", "QUEUED");
        Assert.That(await Page.Locator($"#jobs-body tr[data-number='{job}']").CountAsync(), Is.EqualTo(0));
        await Page.SelectOptionAsync("#filter-state", "");

        await OpenAsync($"#/job/{job}");
        await Page.WaitForSelectorAsync("#job-title");
        Assert.That(await Page.Locator("#job-title").TextContentAsync(), Is.EqualTo(Xss));
        Assert.That(await Page.Locator("main img").CountAsync(), Is.EqualTo(0));
        Assert.That(alerts, Is.EqualTo(0));
    }

    [Test, Order(4)]
    public async Task A_running_jobs_log_and_chart_update_live()
    {
        var job = SubmitPython("live", """
            for i in range(100000):
                print(f"line {i}", flush=True)
                meeshkan.report_scalar("loss", 1.0 / (i + 1))
                time.sleep(0.05)
            """);
        Sandbox.WaitForState(job, TimeSpan.FromSeconds(20), "RUNNING");
        await OpenAsync($"#/job/{job}");
        var chart = Page.Locator(".chart[data-scalar='loss']");
        await chart.WaitForAsync(new() { Timeout = 10_000 });
        var before = int.Parse(await chart.GetAttributeAsync("data-drawn") ?? "0", System.Globalization.CultureInfo.InvariantCulture);
        var log = Page.Locator("#log-stdout");
        await WaitForAsync(async () => (await log.TextContentAsync() ?? "").Contains("line 60", StringComparison.Ordinal), "line 60 in the log");
        var fetches = await chart.GetAttributeAsync("data-fetches");
        await WaitForAsync(async () => int.Parse(await chart.GetAttributeAsync("data-drawn") ?? "0", System.Globalization.CultureInfo.InvariantCulture) > before + 20,
            "more points in the open chart");
        Assert.That(await chart.GetAttributeAsync("data-fetches"), Is.EqualTo(fetches), "points arrived by events, not by reloading the chart");
        await WaitForAsync(async () => (await log.TextContentAsync() ?? "").Contains("line 120", StringComparison.Ordinal), "line 120 in the log");
        Sandbox.Ok("cancel", "-y", job.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Test, Order(5)]
    public async Task Zooming_fetches_detail_from_the_agent()
    {
        var job = SubmitPython("zoom", """
            for i in range(200000):
                meeshkan.report_scalar("loss", math.sin(i / 500.0) + (5.0 if i == 123456 else 0.0))
            meeshkan.flush()
            """);
        Sandbox.WaitForEnd(job, 120);
        await OpenAsync($"#/job/{job}");
        var chart = Page.Locator(".chart[data-scalar='loss']");
        await WaitForAsync(async () => await chart.GetAttributeAsync("data-fetches") == "1", "the first chart data");
        Assert.That(await chart.GetAttributeAsync("data-points"), Is.EqualTo("200000"));
        var drawn = int.Parse(await chart.GetAttributeAsync("data-drawn") ?? "0", System.Globalization.CultureInfo.InvariantCulture);
        Assert.That(drawn, Is.LessThan(4000), "at most two points per pixel column");

        var over = chart.Locator(".u-over");
        var box = (await over.BoundingBoxAsync())!;
        await Page.Mouse.MoveAsync(box.X + box.Width * 0.60f, box.Y + box.Height / 2);
        await Page.Mouse.DownAsync();
        await Page.Mouse.MoveAsync(box.X + box.Width * 0.64f, box.Y + box.Height / 2, new() { Steps = 5 });
        await Page.Mouse.UpAsync();
        await WaitForAsync(async () => await chart.GetAttributeAsync("data-fetches") == "2", "a second fetch for the zoomed range");
        Assert.That(await chart.GetAttributeAsync("data-zoomed"), Is.EqualTo("1"));
        var inView = int.Parse(await chart.GetAttributeAsync("data-points") ?? "0", System.Globalization.CultureInfo.InvariantCulture);
        Assert.That(inView, Is.InRange(4000, 12000), "about 4% of 200,000 points lie in the zoomed range");
        Assert.That(await chart.Locator(".u-legend").TextContentAsync(), Does.Contain("loss"));
    }

    [Test, Order(6)]
    public async Task The_compare_view_draws_one_scalar_of_several_jobs_on_one_chart()
    {
        var a = SubmitPython("lr-0.1", "for i in range(200): meeshkan.report_scalar('loss', 1.0 / (i + 1))\nmeeshkan.flush()");
        var b = SubmitPython("lr-0.01", "for i in range(200): meeshkan.report_scalar('loss', 2.0 / (i + 1))\nmeeshkan.flush()");
        Sandbox.WaitForEnd(a);
        Sandbox.WaitForEnd(b);
        await OpenAsync("#/");
        await Page.Locator($"#jobs-body tr[data-number='{a}'] input[type=checkbox]").CheckAsync();
        await Page.Locator($"#jobs-body tr[data-number='{b}'] input[type=checkbox]").CheckAsync();
        await Page.ClickAsync("#compare-selected");
        var chart = Page.Locator("#compare-chart");
        await WaitForAsync(async () => await chart.GetAttributeAsync("data-fetches") == "1", "the compare chart");
        Assert.That(await Page.InputValueAsync("#compare-scalar"), Is.EqualTo("loss"));
        var legend = await chart.Locator(".u-legend").TextContentAsync();
        Assert.That(legend, Does.Contain($"{a} lr-0.1").And.Contain($"{b} lr-0.01"));
        Assert.That(await chart.GetAttributeAsync("data-points"), Is.EqualTo("400"));
    }

    [Test, Order(7)]
    public async Task Cancel_asks_for_confirmation_first()
    {
        var job = SubmitPython("to-cancel", "print('waiting', flush=True)\ntime.sleep(120)");
        Sandbox.WaitForState(job, TimeSpan.FromSeconds(20), "RUNNING");
        await OpenAsync($"#/job/{job}");
        await Page.WaitForSelectorAsync("#job-state .state.RUNNING");
        await Page.ClickAsync("#cancel");
        await Page.WaitForSelectorAsync("#confirm[open]");
        Assert.That(await Page.Locator("#confirm-text").TextContentAsync(), Does.Contain($"Cancel job {job}"));
        await Page.ClickAsync("#confirm-no");
        await Task.Delay(300);
        Assert.That(Sandbox.Job(job)!.State, Is.EqualTo("RUNNING"));

        await Page.ClickAsync("#cancel");
        await Page.ClickAsync("#confirm-yes");
        await Page.WaitForSelectorAsync("#job-state .state.CANCELED", new() { Timeout = 20_000 });
        Assert.That(Sandbox.Job(job)!.State, Is.EqualTo("CANCELED"));
    }

    [Test, Order(8)]
    public async Task Retry_queues_an_ended_job_again_and_opens_it()
    {
        var marker = Path.Combine(Sandbox.WorkDir, $"{Guid.NewGuid():N}.attempts");
        var job = SubmitPython("to-retry", $"open('{marker}', 'a').write('x')\nsys.exit(3)");
        Sandbox.WaitForEnd(job);
        await OpenAsync($"#/job/{job}");
        await Page.WaitForSelectorAsync("#job-state .state.FAILED");
        await Page.ClickAsync("#retry");
        await WaitForAsync(() => Task.FromResult(!Page.Url.EndsWith($"#/job/{job}", StringComparison.Ordinal)), "the page to open the new job");
        var again = long.Parse(Page.Url[(Page.Url.LastIndexOf('/') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        Assert.That(again, Is.GreaterThan(job));
        await Page.WaitForFunctionAsync("n => [...document.querySelectorAll('.head .muted span')].some(s => s.textContent === 'job ' + n)", again);
        Assert.That(await Page.Locator("#job-title").TextContentAsync(), Is.EqualTo("to-retry"));
        Assert.That(Sandbox.WaitForEnd(again).ExitCode, Is.EqualTo(3));
        Assert.That(File.ReadAllText(marker), Is.EqualTo("xx"), "the same command ran again");
        await Page.WaitForSelectorAsync("#job-state .state.FAILED", new() { Timeout = 20_000 });

        // A running job has nothing to retry: no button.
        var running = SubmitPython("not-yet", "time.sleep(120)");
        Sandbox.WaitForState(running, TimeSpan.FromSeconds(20), "RUNNING");
        await OpenAsync($"#/job/{running}");
        await Page.WaitForSelectorAsync("#job-state .state.RUNNING");
        Assert.That(await Page.Locator("#retry").IsHiddenAsync(), Is.True);
        Sandbox.Ok("cancel", "-y", running.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Test, Order(9)]
    public async Task The_dashboard_is_served_over_the_TLS_listener_too()
    {
        var token = File.ReadAllText(Path.Combine(Sandbox.Home, "remote.token")).Trim();
        await using var remote = await Browser.NewContextAsync(new() { IgnoreHTTPSErrors = true });
        var page = await remote.NewPageAsync();
        var tls = $"https://127.0.0.1:{TlsPort}/";
        // The TLS listener speaks HTTP/2 only (browsers negotiate it; Playwright's own request client cannot).
        await page.GotoAsync(tls);
        await page.WaitForSelectorAsync("#login-needed");
        await page.GotoAsync($"{tls}login?token={Uri.EscapeDataString(token)}");
        await page.WaitForSelectorAsync("#jobs");
        var cookie = (await remote.CookiesAsync()).Single(c => c.Name == "meeshkan_session");
        Assert.That(cookie.Secure, Is.True, "over TLS the cookie is Secure");
    }

    [Test, Order(10)]
    public async Task The_job_page_is_worth_a_screenshot()
    {
        var job = SubmitPython("resnet-cifar10", """
            import random
            random.seed(3)
            acc = 0.1
            for step in range(3000):
                loss = (2.2 * math.exp(-step / 600) + 0.08) * math.exp(random.gauss(0, 0.08))
                acc = min(0.97, acc + (0.97 - acc) * 0.002 + random.gauss(0, 0.004))
                meeshkan.report_scalar("train loss", loss, "eval accuracy", acc)
                if step % 100 == 0:
                    print(f"epoch {step // 100:3d}  step {step:5d}  loss {loss:.4f}  acc {acc:.4f}", flush=True)
            print("done", file=sys.stderr)
            meeshkan.flush()
            """, "--epochs", "30");
        Sandbox.WaitForEnd(job, 60);
        await OpenAsync($"#/job/{job}");
        await WaitForAsync(async () => await Page.Locator(".chart[data-fetches='1']").CountAsync() == 2, "both charts");
        await Page.WaitForSelectorAsync("#log-stdout:has-text('epoch')");
        var folder = Environment.GetEnvironmentVariable("MEESHKAN_WRITE_DOCS") == "1"
            ? Path.Combine(Meeshkan.Testing.MeeshkanSandbox.RepoRoot, "docs")
            : Sandbox.WorkDir;
        var path = Path.Combine(folder, "dashboard-job.png");
        await Page.ScreenshotAsync(new() { Path = path, FullPage = true });
        Assert.That(new FileInfo(path).Length, Is.GreaterThan(20_000));
    }
}
