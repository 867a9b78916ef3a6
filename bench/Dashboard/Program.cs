// The dashboard in Chromium (issue 18), against the native `meeshkan`: a 10,000,000-point job's chart, its data
// responses next to sending every point, a reported point reaching an open chart, a 10,000-job jobs page, and agent
// memory with five dashboards open. Writes its section of docs/benchmarks.md.
// Usage: Meeshkan.DashboardBench --meeshkan PATH --work DIR --out docs/benchmarks.md [--points N] [--memory-seconds S]
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Meeshkan;
using Meeshkan.V1;
using Microsoft.Playwright;

var options = args.Select((a, i) => (a, i)).Where(p => p.a.StartsWith("--", StringComparison.Ordinal))
    .ToDictionary(p => p.a[2..], p => p.i + 1 < args.Length && !args[p.i + 1].StartsWith("--", StringComparison.Ordinal) ? args[p.i + 1] : "");
var meeshkan = Path.GetFullPath(options["meeshkan"]);
var work = options["work"];
var output = options.GetValueOrDefault("out", "docs/benchmarks.md");
var points = long.Parse(options.GetValueOrDefault("points", "10000000"), CultureInfo.InvariantCulture);
var memorySeconds = int.Parse(options.GetValueOrDefault("memory-seconds", "120"), CultureInfo.InvariantCulture);
var inv = CultureInfo.InvariantCulture;
var home = Path.Combine(work, "h");
Directory.CreateDirectory(home);
Environment.SetEnvironmentVariable("MEESHKAN_HOME", home);
var lines = new List<string>();
void Step(string what) => Console.WriteLine($"[{DateTime.UtcNow:HH:mm:ss}] {what}");

string Cli(params string[] cliArgs)
{
    var start = new ProcessStartInfo(meeshkan) { RedirectStandardOutput = true, RedirectStandardError = true };
    foreach (var a in cliArgs)
    {
        start.ArgumentList.Add(a);
    }
    start.Environment["MEESHKAN_HOME"] = home;
    using var p = Process.Start(start)!;
    var text = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
    p.WaitForExit();
    if (p.ExitCode != 0)
    {
        throw new InvalidOperationException($"meeshkan {string.Join(' ', cliArgs)}: {text}");
    }
    return text;
}

Cli("setup", "--dashboard", "127.0.0.1:0");
Cli("start");
var agentPid = int.Parse(File.ReadAllText(Path.Combine(home, "agent.pid")).Trim(), inv);
var address = File.ReadAllText(Path.Combine(home, "dashboard.url")).Trim();
var token = File.ReadAllText(Path.Combine(home, "remote.token")).Trim();
try
{
    // ---- a job with `points` points of one scalar, reported through the C# SDK
    Step($"reporting {points:N0} points of one scalar");
    var fill = Stopwatch.StartNew();
    await MeeshkanJob.RunAsync("ten-million", null, async () =>
    {
        var reporter = Scalars.Reporter;
        var random = new Random(1);
        for (long i = 0; i < points; i++)
        {
            reporter.ReportScalar("loss", Math.Exp(-i / (points / 5.0)) + random.NextDouble() * 0.05 + (i == points * 3 / 4 ? 3.0 : 0.0));
        }
        await reporter.FlushAsync();
    });
    var fillSeconds = fill.Elapsed.TotalSeconds;
    Step($"stored in {fillSeconds:F1} s");

    var cookies = new CookieContainer();
    using var http = new HttpClient(new HttpClientHandler { CookieContainer = cookies, AllowAutoRedirect = false });
    if ((await http.GetAsync($"{address}login?token={Uri.EscapeDataString(token)}")).StatusCode != HttpStatusCode.Redirect)
    {
        throw new InvalidOperationException("the dashboard refused the access token");
    }
    var jobs = JsonDocument.Parse(await http.GetStringAsync(address + "api/jobs")).RootElement.GetProperty("jobs");
    var big = jobs.EnumerateArray().First(j => j.GetProperty("name").GetString() == "ten-million").GetProperty("number").GetInt64();

    // ---- chart data: what the page asks for, 1,000 px wide, whole range and zoomed
    Step("chart data responses");
    var ranges = new (string Name, double? From, double? To)[]
    {
        ("whole history", null, null), ("zoomed to 10%", points * 0.70, points * 0.80), ("zoomed to 1%", points * 0.745, points * 0.755),
        ("zoomed to 0.01%", points * 0.74995, points * 0.75005),
    };
    var chartRows = new List<string>();
    long wholeBytes = 0;
    double wholeMs = 0;
    foreach (var (name, from, to) in ranges)
    {
        var url = $"{address}api/jobs/{big}/chart?name=loss&width=1000" + (from is null ? "" : $"&from={from.Value.ToString(inv)}&to={to!.Value.ToString(inv)}");
        var times = new List<double>();
        var agentTimes = new List<double>();
        byte[] body = [];
        for (var i = 0; i < 15; i++)
        {
            var clock = Stopwatch.StartNew();
            using var response = await http.GetAsync(url);
            body = await response.Content.ReadAsByteArrayAsync();
            times.Add(clock.Elapsed.TotalMilliseconds);
            agentTimes.Add(AgentMs(response));
        }
        var doc = JsonDocument.Parse(body).RootElement;
        var ms = Median(times.Skip(3));
        var agentMs = Median(agentTimes.Skip(3));
        if (from is null)
        {
            (wholeBytes, wholeMs) = (body.Length, ms);
        }
        chartRows.Add($"| {name} | {doc.GetProperty("points").GetInt64():N0} | {doc.GetProperty("x").GetArrayLength():N0} | {body.Length / 1024.0:N1} KB | {agentMs:F1} ms | {ms:F1} ms | {doc.GetProperty("decoded").GetInt64():N0} |");
    }

    // ---- the naive way: every point of the scalar as JSON (read from the same file)
    Step("naive: every point as JSON");
    var naiveClock = Stopwatch.StartNew();
    var naiveJson = NaiveJson(Path.Combine(home, "meeshkan.db"), big, "loss", long.MaxValue);
    var naiveMs = naiveClock.Elapsed.TotalMilliseconds;
    var naiveBytes = naiveJson.Length;
    naiveJson = [];

    // ---- Chromium
    using var playwright = await Playwright.CreateAsync();
    await using var browser = await playwright.Chromium.LaunchAsync(new()
    {
        ExecutablePath = "/usr/bin/chromium", Headless = true,
        Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
    async Task<IPage> LoggedIn(bool bypassCsp = false)
    {
        var context = await browser.NewContextAsync(new() { ViewportSize = new() { Width = 1400, Height = 1000 }, BypassCSP = bypassCsp });
        var page = await context.NewPageAsync();
        await page.GotoAsync($"{address}login?token={Uri.EscapeDataString(token)}");
        await page.Locator("#app[data-page]").WaitForAsync();
        return page;
    }
    var page = await LoggedIn();
    Step("job page of the big job: chart drawn after navigation");
    var drawn = new List<double>();
    for (var i = 0; i < 6; i++)
    {
        await page.GotoAsync($"{address}?load={i}#/job/{big}");
        var chart = page.Locator(".chart[data-drawn-at]");
        await chart.WaitForAsync();
        drawn.Add(double.Parse((await chart.GetAttributeAsync("data-drawn-at"))!, inv));
    }
    var drawnMs = Median(drawn.Skip(1));

    // The JSON text is made in the page (same shape and size as the naive response): the protocol that drives the
    // browser is far slower than loopback HTTP, so the transfer itself is left out, in the naive way's favour. Every
    // point first; if the page cannot hold them (out of memory), 1,000,000 of them, and the text says so.
    async Task<double?> NaiveDraw(long n, int runs)
    {
        Step($"naive in Chromium: {n:N0} points parsed from JSON and drawn");
        var naivePage = await LoggedIn(bypassCsp: true);
        var times = new List<double>();
        try
        {
            for (var i = 0; i < runs; i++)
            {
                times.Add(await naivePage.EvaluateAsync<double>("""
                    (n) => {
                      const x = new Array(n), y = new Array(n);
                      for (let i = 0; i < n; i++) { x[i] = i; y[i] = Math.exp(-i / (n / 5)) + Math.random() * 0.05; }
                      const text = JSON.stringify({ x, y });
                      const t0 = performance.now();
                      const d = JSON.parse(text);
                      const el = document.createElement('div'); document.body.appendChild(el);
                      const u = new uPlot({ width: 1000, height: 240, series: [{}, { stroke: 'blue' }] }, [d.x, d.y], el);
                      const t = performance.now() - t0; u.destroy(); el.remove(); return t;
                    }
                    """, (int)n));
            }
            return Median(times);
        }
        catch (PlaywrightException e)
        {
            Step($"naive in Chromium with {n:N0} points failed: {e.Message.Split('\n')[0]}");
            return null;
        }
        finally
        {
            await naivePage.Context.CloseAsync();
        }
    }
    var sampleCount = points;
    var naiveDrawMs = await NaiveDraw(points, points > 1_000_000 ? 2 : 3);
    if (naiveDrawMs is null && points > 1_000_000)
    {
        sampleCount = 1_000_000;
        naiveDrawMs = await NaiveDraw(sampleCount, 3);
    }

    // ---- a reported point reaching an open chart
    Step("live: a reported point to the open chart");
    var live = new List<double>();
    var memory = new List<(double At, double Mb, double NativeMb, double GcMb)>();
    var liveJob = MeeshkanJob.RunAsync("live", null, async () =>
    {
        var reporter = Scalars.Reporter;
        reporter.ReportScalar("loss", 1.0);
        await reporter.FlushAsync();
        await Task.Delay(1500);
        var number = JsonDocument.Parse(await http.GetStringAsync(address + "api/jobs")).RootElement.GetProperty("jobs")
            .EnumerateArray().First(j => j.GetProperty("name").GetString() == "live").GetProperty("number").GetInt64();
        await page.GotoAsync($"{address}?load=live#/job/{number}");
        var chart = page.Locator(".chart[data-scalar='loss'][data-drawn]");
        await chart.WaitForAsync();
        await Task.Delay(500);
        for (var i = 0; i < 12; i++)
        {
            var before = await chart.GetAttributeAsync("data-drawn");
            var clock = Stopwatch.StartNew();
            reporter.ReportScalar("loss", 1.0 / (i + 2));
            while (await chart.GetAttributeAsync("data-drawn") == before && clock.Elapsed < TimeSpan.FromSeconds(5))
            {
                await Task.Delay(5);
            }
            live.Add(clock.Elapsed.TotalMilliseconds);
            await Task.Delay(300);
        }

        // ---- agent memory with five dashboards open on this live job
        Step($"memory: five dashboards on a live job for {memorySeconds} s");
        var pages = new List<IPage>();
        for (var i = 0; i < 5; i++)
        {
            var p = await LoggedIn();
            await p.GotoAsync($"{address}?load=m{i}#/job/{number}");
            pages.Add(p);
        }
        var samples = new List<(double At, double Mb, double NativeMb, double GcMb)>();
        var memoryClock = Stopwatch.StartNew();
        var step = 0;
        while (memoryClock.Elapsed < TimeSpan.FromSeconds(memorySeconds))
        {
            for (var k = 0; k < 10; k++)
            {
                reporter.ReportScalar("loss", Math.Sin(step++ / 50.0));
            }
            if (step % 500 == 0)
            {
                var (native, gc) = AnonymousMb(agentPid);
                samples.Add((memoryClock.Elapsed.TotalSeconds, RssMb(agentPid), native, gc));
            }
            await Task.Delay(100);
        }
        memory = samples;
    });
    await liveJob;

    // ---- jobs page with 10,000 jobs
    Step("jobs page with 10,000 jobs");
    using (var channel = AgentChannel.ForSocket(Path.Combine(home, "agent.sock")))
    {
        var client = new JobService.JobServiceClient(channel);
        for (var b = 0; b < 10; b++)
        {
            var request = new SubmitJobsRequest();
            for (var i = 0; i < 1000; i++)
            {
                request.Jobs.Add(new SubmitJobRequest { Command = { "true" }, Name = $"sweep-{b * 1000 + i}", WorkingDirectory = work });
            }
            await client.SubmitJobsAsync(request);
        }
        while ((await client.GetStatusAsync(new GetStatusRequest())) is { Queued: > 0 } or { Running: > 0 })
        {
            await Task.Delay(500);
        }
    }
    var listed = new List<double>();
    for (var i = 0; i < 4; i++)
    {
        await page.GotoAsync($"{address}?load=list{i}#/");
        await page.Locator("#app[data-page='jobs']").WaitForAsync();
        listed.Add(double.Parse((await page.Locator("#app").GetAttributeAsync("data-rendered-at"))!, inv));
    }
    var listAgent = new List<double>();
    var listBytes = 0;
    for (var i = 0; i < 5; i++)
    {
        using var response = await http.GetAsync(address + "api/jobs");
        listBytes = (await response.Content.ReadAsByteArrayAsync()).Length;
        listAgent.Add(AgentMs(response));
    }
    var jobsMs = Median(listed.Skip(1));

    var first = memory.Count > 0 ? memory[0] : default;
    var middle = memory.Count > 0 ? memory[memory.Count / 2] : default;
    var last = memory.Count > 0 ? memory[^1] : default;
    var peak = memory.Count > 0 ? memory.Max(m => m.Mb) : 0;
    lines.Add("## Dashboard (issue 18)");
    lines.Add("");
    lines.Add($"Measured by `bench/Dashboard` ({DateTime.UtcNow:yyyy-MM-dd}, {Environment.ProcessorCount} cores, load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]}), " +
        "in Debian's Chromium driven by Playwright, against the native `meeshkan`. Medians.");
    lines.Add("");
    lines.Add($"A job with **{points:N0} points of one scalar** (reported through the C# SDK in {fillSeconds:F1} s):");
    lines.Add("");
    lines.Add($"- Job page, chart drawn **{drawnMs:F0} ms** after navigation (target 500 ms).");
    lines.Add($"- Each chart data response, 1,000 px wide (\"on the agent\": its `Server-Timing`, from the request's arrival to the body ready; \"round trip\": on loopback HTTP; target < 200 KB, < 50 ms on the agent):");
    lines.Add("");
    lines.Add("| range | points in range | points sent | response | on the agent | round trip | points decoded |");
    lines.Add("|---|---|---|---|---|---|---|");
    lines.AddRange(chartRows);
    lines.Add("");
    lines.Add($"- The naive way, sending every point: {naiveBytes / 1e6:N0} MB of JSON for {points:N0} points, {naiveMs:F0} ms just to read and write them " +
        $"(**{(double)naiveBytes / wholeBytes:N0}x the bytes** and {naiveMs / wholeMs:N0}x the time of the whole-history response). In Chromium, " +
        (naiveDrawMs is { } naive
            ? $"{sampleCount:N0} points sent that way take **{naive:F0} ms** just to parse and draw (transfer not counted), " +
              $"**{naive / drawnMs:N0}x** the {drawnMs:F0} ms of the job page's whole navigation" +
              (sampleCount < points ? $" ({points:N0} did not fit in the page)." : ".")
            : "In Chromium the page could not hold them at all."));
    lines.Add($"- A reported scalar appears in an open chart **{Median(live):F0} ms** after `ReportScalar` (max {live.Max():F0} ms; target 1 s): the SDK's send interval, the agent's 200 ms event batching, then the chart.");
    lines.Add($"- Jobs page with **10,000 jobs** rendered **{jobsMs:F0} ms** after navigation ({listBytes / 1e6:N1} MB of JSON, {Median(listAgent.Skip(1)):F0} ms of it on the agent; target 500 ms).");
    lines.Add($"- Agent memory (RSS) with **5 dashboards** open on a job reporting 100 points/s, for {memorySeconds} s" +
        (memorySeconds < 600 ? " (shortened from the 10 minutes of the issue to fit this run)" : "") + ": " +
        $"{first.Mb:F0} MB at the start, {middle.Mb:F0} MB at {middle.At / 60:F0} min, {last.Mb:F0} MB at the end, peak {peak:F0} MB " +
        $"(of it the GC's heap {first.GcMb:F0} / {middle.GcMb:F0} / {last.GcMb:F0} MB and other anonymous memory, SQLite's and the runtime's native allocations, " +
        $"{first.NativeMb:F0} / {middle.NativeMb:F0} / {last.NativeMb:F0} MB).");
    lines.Add("");
    WriteSection(output, lines);
    Console.WriteLine(string.Join('\n', lines));
}
finally
{
    try
    {
        Cli("stop", "--cancel-jobs");
    }
    catch (InvalidOperationException e)
    {
        Console.Error.WriteLine(e.Message);
    }
}
return;

static double Median(IEnumerable<double> values)
{
    var sorted = values.Order().ToArray();
    return sorted.Length == 0 ? 0 : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
}

// The agent's own time for a response: its Server-Timing header, agent;dur=MS.
static double AgentMs(HttpResponseMessage response) =>
    response.Headers.TryGetValues("Server-Timing", out var values)
    && Regex.Match(string.Join(',', values), @"agent;dur=([0-9.]+)") is { Success: true } m
        ? double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)
        : double.NaN;

static double RssMb(int pid)
{
    var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
    return long.Parse(Regex.Match(line, @"\d+").Value, CultureInfo.InvariantCulture) / 1024.0;
}

// The agent's anonymous resident memory, split: the GC's heap (its regions are committed inside one reservation of
// many GB, so they sit in a run of adjacent mappings that large) and the rest (malloc's heap and arenas: SQLite's page
// caches and statements, the runtime's native allocations, thread stacks), from /proc/PID/smaps.
static (double NativeMb, double GcMb) AnonymousMb(int pid)
{
    var maps = new List<(ulong Start, ulong End, bool Anonymous, double RssMb)>();
    foreach (var line in File.ReadLines($"/proc/{pid}/smaps"))
    {
        var header = Regex.Match(line, @"^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \d+\s*(.*)$");
        if (header.Success)
        {
            var path = header.Groups[3].Value.Trim();
            maps.Add((Convert.ToUInt64(header.Groups[1].Value, 16), Convert.ToUInt64(header.Groups[2].Value, 16), path.Length == 0 || path == "[heap]", 0));
        }
        else if (maps.Count > 0 && line.StartsWith("Rss:", StringComparison.Ordinal))
        {
            maps[^1] = maps[^1] with { RssMb = long.Parse(Regex.Match(line, @"\d+").Value, CultureInfo.InvariantCulture) / 1024.0 };
        }
    }
    double native = 0, gc = 0;
    for (var i = 0; i < maps.Count;)
    {
        if (!maps[i].Anonymous)
        {
            i++;
            continue;
        }
        var j = i;
        double rss = 0;
        while (j < maps.Count && maps[j].Anonymous && (j == i || maps[j].Start == maps[j - 1].End))
        {
            rss += maps[j].RssMb;
            j++;
        }
        if (maps[j - 1].End - maps[i].Start >= 1UL << 30)
        {
            gc += rss;
        }
        else
        {
            native += rss;
        }
        i = j;
    }
    return (native, gc);
}

// Every point of one scalar as {"x":[...],"y":[...]}: what a dashboard that sends every point would send.
static byte[] NaiveJson(string database, long job, string name, long max)
{
    using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={database};Mode=ReadOnly");
    connection.Open();
    using var command = connection.CreateCommand();
    command.CommandText = "SELECT c.first_step, c.steps, c.vals FROM scalar_chunks c JOIN scalar_names n ON n.id = c.name_id WHERE n.job_number = $j AND n.name = $n ORDER BY c.rowid";
    command.Parameters.AddWithValue("$j", job);
    command.Parameters.AddWithValue("$n", name);
    using var reader = command.ExecuteReader();
    var xs = new StringBuilder("{\"x\":[");
    var ys = new StringBuilder("],\"y\":[");
    long count = 0;
    while (reader.Read() && count < max)
    {
        var first = reader.GetInt64(0);
        var steps = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, long>((byte[])reader[1]);
        var values = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, double>((byte[])reader[2]);
        for (var i = 0; i < values.Length && count < max; i++, count++)
        {
            if (count > 0)
            {
                xs.Append(',');
                ys.Append(',');
            }
            xs.Append((steps.IsEmpty ? first + i : steps[i]).ToString(CultureInfo.InvariantCulture));
            ys.Append(values[i].ToString("R", CultureInfo.InvariantCulture));
        }
    }
    return Encoding.UTF8.GetBytes(xs.Append(ys).Append("]}").ToString());
}

// Replaces the dashboard section of the benchmarks page (or appends it), leaving the rest as the other benchmarks wrote it.
static void WriteSection(string path, List<string> section)
{
    const string begin = "<!-- dashboard benchmark: bench/Dashboard -->", end = "<!-- end of dashboard benchmark -->";
    var text = File.Exists(path) ? File.ReadAllText(path) : "";
    var block = $"{begin}\n{string.Join('\n', section)}\n{end}";
    var at = text.IndexOf(begin, StringComparison.Ordinal);
    var until = text.IndexOf(end, StringComparison.Ordinal);
    text = at >= 0 && until > at ? text[..at] + block + text[(until + end.Length)..] : text.TrimEnd() + "\n\n" + block + "\n";
    File.WriteAllText(path, text);
}
