using System.Globalization;
using Meeshkan.V1;
using Microsoft.Playwright;

namespace Meeshkan.Dashboard.Tests;

/// <summary>
/// The jobs page with thousands of jobs: only the rows in view are in the page, yet every job is reachable by
/// scrolling, and sorting orders the whole list. Part of the one dashboard fixture (its agent and browser), run last:
/// the jobs it submits would crowd the earlier tests' pages.
/// </summary>
public sealed partial class DashboardTests
{
    private const int ManyJobs = 2_500;

    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>The numbers of the jobs drawn in the jobs page, top to bottom.</summary>
    private Task<long[]> DrawnNumbersAsync() =>
        Page.EvaluateAsync<long[]>("() => [...document.querySelectorAll('#jobs-body tr[data-number]')].map(r => Number(r.dataset.number))");

    private async Task SortByAsync(string key, string order)
    {
        var header = Page.Locator($"#jobs th[data-sort='{key}']");
        for (var i = 0; i < 2 && await header.GetAttributeAsync("aria-sort") != order; i++)
        {
            await header.ClickAsync();
        }
        Assert.That(await header.GetAttributeAsync("aria-sort"), Is.EqualTo(order), key);
    }

    /// <summary>The drawn rows' values of one kind (JS over a row), top to bottom.</summary>
    private Task<double[]> DrawnAsync(string valueOfRow) =>
        Page.EvaluateAsync<double[]>($"() => [...document.querySelectorAll('#jobs-body tr[data-number]')].map({valueOfRow})");

    [Test, Order(11)]
    public async Task The_jobs_page_with_thousands_of_jobs_draws_the_rows_in_view_scrolls_to_the_last_and_sorts_them_all()
    {
        using (var channel = AgentChannel.ForSocket(Sandbox.SocketPath))
        {
            var client = new JobService.JobServiceClient(channel);
            for (var b = 0; b < ManyJobs / 500; b++)
            {
                var request = new SubmitJobsRequest();
                for (var i = 0; i < 500; i++)
                {
                    request.Jobs.Add(new SubmitJobRequest { Command = { "true" }, Name = $"many-{b * 500 + i:D4}", WorkingDirectory = Sandbox.WorkDir });
                }
                await client.SubmitJobsAsync(request);
            }
            await WaitForAsync(async () => await client.GetStatusAsync(new GetStatusRequest()) is { Queued: 0, Running: 0 }, "every job to end", 300);
        }
        var total = Sandbox.Jobs().Count;
        Assert.That(total, Is.GreaterThanOrEqualTo(ManyJobs));

        await OpenAsync("#/");
        await Page.WaitForSelectorAsync("#jobs-body tr[data-number]");
        Assert.That(await Page.Locator("#job-count").TextContentAsync(), Is.EqualTo($"{total} of {total} jobs"));
        var drawn = await DrawnNumbersAsync();
        Assert.That(drawn, Has.Length.InRange(10, 120), "only the rows in view (and a few around them) are in the page");
        Assert.That(drawn, Is.Ordered.Descending, "newest first");
        Assert.That(drawn[0], Is.EqualTo(Sandbox.Jobs().Max(j => j.Number)));

        // Scrolled to the end: the oldest job is drawn, in view, and the page still holds only a window of rows.
        var scroller = Page.Locator("#jobs-scroll");
        await scroller.EvaluateAsync("e => { e.scrollTop = e.scrollHeight; }");
        var oldest = Page.Locator("#jobs-body tr[data-number='1']");
        await oldest.WaitForAsync(new() { Timeout = 10_000 });
        var box = (await scroller.BoundingBoxAsync())!;
        var row = (await oldest.BoundingBoxAsync())!;
        Assert.That(row.Y, Is.InRange(box.Y, box.Y + box.Height - row.Height + 1), "the last row is in view");
        Assert.That(await DrawnNumbersAsync(), Has.Length.InRange(10, 120));

        // Sorting orders the whole list, not the rows drawn: the first row after each sort is the first of every job.
        await Page.FillAsync("#filter-name", "many-");
        Assert.That(await Page.Locator("#job-count").TextContentAsync(), Is.EqualTo($"{ManyJobs} of {total} jobs"));
        await SortByAsync("name", "ascending");
        Assert.That(await Page.Locator("#jobs-body tr[data-number] .job-name").First.TextContentAsync(), Is.EqualTo("many-0000"));
        await SortByAsync("name", "descending");
        Assert.That(await Page.Locator("#jobs-body tr[data-number] .job-name").First.TextContentAsync(), Is.EqualTo($"many-{ManyJobs - 1:D4}"));
        await SortByAsync("number", "ascending");
        var ascending = await DrawnNumbersAsync();
        Assert.That(ascending, Is.Ordered.Ascending);
        Assert.That(await Page.Locator("#jobs-body tr[data-number] .job-name").First.TextContentAsync(), Is.EqualTo("many-0000"));
        await scroller.EvaluateAsync("e => { e.scrollTop = e.scrollHeight; }");
        await Page.Locator($"#jobs-body tr[data-number] .job-name:text-is('many-{ManyJobs - 1:D4}')").WaitForAsync(new() { Timeout = 10_000 });

        await Page.FillAsync("#filter-name", "");
        var everyJob = Sandbox.Jobs();
        await SortByAsync("state", "ascending");
        var states = await Page.EvaluateAsync<string[]>("() => [...document.querySelectorAll('#jobs-body tr[data-number]')].map(r => r.dataset.state)");
        Assert.That(states, Is.Ordered.Using((IComparer<string>)StringComparer.Ordinal));
        Assert.That(states[0], Is.EqualTo(everyJob.Select(j => j.State).Order(StringComparer.Ordinal).First()), "the first state of every job's");

        await SortByAsync("started", "descending");
        var started = await Page.EvaluateAsync<string[]>("() => [...document.querySelectorAll('#jobs-body tr[data-number]')].map(r => r.querySelector('.started').textContent)");
        Assert.That(started, Is.Ordered.Descending.Using((IComparer<string>)StringComparer.Ordinal), "yyyy-MM-dd HH:mm:ss sorts as text");
        var lastStarted = everyJob.Where(j => j.StartedAt is not null).MaxBy(j => j.StartedAt)!;
        Assert.That(started[0], Is.EqualTo(lastStarted.StartedAt!.Value.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", Inv)), "the last started of every job");

        await SortByAsync("duration", "descending");
        var seconds = await DrawnAsync("r => { const m = r.querySelector('.duration').textContent.match(/^(?:(\\d+)h)?(?:(\\d+)m)?(\\d+)s$/); " +
            "return m ? (+(m[1] || 0)) * 3600 + (+(m[2] || 0)) * 60 + (+m[3]) : -1; }");
        Assert.That(seconds, Is.Ordered.Descending);
        var longest = everyJob.Where(j => j.StartedAt is not null && j.FinishedAt is not null).MaxBy(j => j.FinishedAt!.Value - j.StartedAt!.Value)!;
        Assert.That(seconds[0], Is.EqualTo(Math.Floor((longest.FinishedAt!.Value - longest.StartedAt!.Value).TotalSeconds)).Within(1), "the longest of every job");
        Assert.That(Page.Url, Does.Contain("sort=duration"), "the order is in the address, as the filter is");
    }
}
