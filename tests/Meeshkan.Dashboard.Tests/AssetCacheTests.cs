using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace Meeshkan.Dashboard.Tests;

/// <summary>The page's scripts and styles by content-hashed names, cached for good: a page load asks for none of them.</summary>
public sealed partial class DashboardTests
{
    [Test, Order(13)]
    public async Task The_page_links_its_files_by_content_hash_and_they_are_cached_for_a_year()
    {
        var page = await Context.APIRequest.GetAsync(Address);
        Assert.That(page.Headers["cache-control"], Is.EqualTo("no-cache"), "the page itself is revalidated: it names the current files");
        var linked = Regex.Matches(await page.TextAsync(), @"""/assets/([\w.]+)\.([0-9a-f]{16})\.(js|css)""").ToList();
        Assert.That(linked.Select(m => $"{m.Groups[1].Value}.{m.Groups[3].Value}"),
            Is.EquivalentTo(new[] { "uPlot.min.css", "app.css", "uPlot.iife.min.js", "charts.js", "app.js" }));
        foreach (var file in linked)
        {
            var response = await Context.APIRequest.GetAsync(Address + file.Value.Trim('"').TrimStart('/'));
            Assert.That(response.Status, Is.EqualTo(200), file.Value);
            Assert.That(response.Headers["cache-control"], Is.EqualTo("public, max-age=31536000, immutable"), file.Value);
            Assert.That(Convert.ToHexStringLower(SHA256.HashData(await response.BodyAsync()))[..16], Is.EqualTo(file.Groups[2].Value),
                "the name is the content's hash: new files get new names");
        }
        var plain = await Context.APIRequest.GetAsync(Address + "assets/app.js");
        Assert.That(plain.Headers["cache-control"], Is.EqualTo("no-cache"), "an unhashed name is revalidated");
    }
}
