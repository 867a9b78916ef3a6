using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Meeshkan.Agent.Store;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Meeshkan.Agent.Dashboard;

/// <summary>
/// The dashboard's HTTP surface: the page and its assets (no data in them), the login link, and the JSON API and
/// event stream the page reads, each behind the session cookie. Plain request delegates: nothing here needs
/// reflection, so it runs as it is in the native build.
/// </summary>
internal static class DashboardEndpoints
{
    /// <summary>Only this page's own files may run or load; nothing may frame it; no inline script or style.</summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; " +
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    private const int LogSliceBytes = 64 * 1024;

    /// <summary>The dashboard's paths; gRPC's are /meeshkan.v1.Service/Method and never among them.</summary>
    public static bool IsDashboardPath(PathString path) =>
        path == "/" || path == "/login" || path.StartsWithSegments("/assets") || path.StartsWithSegments("/api");

    public static void MapDashboard(this IEndpointRouteBuilder app)
    {
        app.MapGet("/", Page(context => DashboardAssets.WriteAsync(context, "index.html")));
        app.MapGet("/assets/{file}", Page(context => DashboardAssets.WriteAsync(context, (string)context.Request.RouteValues["file"]!)));
        app.MapGet("/login", Page(LoginAsync));
        app.MapPost("/api/login-codes", Page(NewCodeAsync));
        app.MapGet("/api/session", Api((context, session) =>
            WriteJsonAsync(context, new SessionInfo(Auth(context).Csrf(session), AgentOptions.Version), DashboardJson.Context.SessionInfo)));
        app.MapGet("/api/jobs", Api((context, _) => WriteJsonAsync(context, new JobList(Jobs(context).List()), DashboardJson.Context.JobList)));
        app.MapGet("/api/jobs/{number:long}", Api(DetailAsync));
        app.MapGet("/api/jobs/{number:long}/chart", Api(ChartAsync));
        app.MapGet("/api/jobs/{number:long}/log", Api(LogAsync));
        app.MapPost("/api/jobs/{number:long}/cancel", Api(CancelAsync, changes: true));
        app.MapPost("/api/jobs/{number:long}/retry", Api(RetryAsync, changes: true));
        app.MapGet("/api/events", Api(EventsAsync));
    }

    private static DashboardAuth Auth(HttpContext context) => context.RequestServices.GetRequiredService<DashboardAuth>();

    private static DashboardJobs Jobs(HttpContext context) => context.RequestServices.GetRequiredService<DashboardJobs>();

    private static void SecurityHeaders(HttpContext context)
    {
        var headers = context.Response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        // The login link's code must not leak to anything the page links to.
        headers["Referrer-Policy"] = "no-referrer";
        headers["Cross-Origin-Opener-Policy"] = "same-origin";
        headers["Cross-Origin-Resource-Policy"] = "same-origin";
    }

    private static RequestDelegate Page(RequestDelegate handler) => context =>
    {
        SecurityHeaders(context);
        return handler(context);
    };

    /// <summary>A JSON endpoint: a valid session cookie, and for a change also its CSRF token, or no answer but an error.</summary>
    private static RequestDelegate Api(Func<HttpContext, string, Task> handler, bool changes = false) => async context =>
    {
        context.Items[StartedKey] = System.Diagnostics.Stopwatch.GetTimestamp();
        SecurityHeaders(context);
        context.Response.Headers.CacheControl = "no-store";
        var auth = Auth(context);
        if (await auth.SessionAsync(context).ConfigureAwait(false) is not { } session)
        {
            await ErrorAsync(context, StatusCodes.Status401Unauthorized, "log in first: run `meeshkan dashboard` on the agent's machine and open its link").ConfigureAwait(false);
            return;
        }
        if (changes && !auth.CsrfMatches(context, session))
        {
            await auth.FailAsync(context, "missing or wrong CSRF token").ConfigureAwait(false);
            await ErrorAsync(context, StatusCodes.Status403Forbidden, "this change needs the page's CSRF token: reload the page").ConfigureAwait(false);
            return;
        }
        await handler(context, session).ConfigureAwait(false);
    };

    private static async Task LoginAsync(HttpContext context)
    {
        var auth = Auth(context);
        var presented = context.Request.Query["token"].ToString();
        context.Response.Headers.CacheControl = "no-store";
        if (presented.Length > 0 && auth.RedeemLogin(presented))
        {
            auth.Succeed(context);
            auth.StartSession(context);
            // Off the address bar at once: the code is used up, and the token must not stay in the history.
            context.Response.Redirect("/", permanent: false);
            return;
        }
        await auth.FailAsync(context, presented.Length == 0 ? "login without a token" : "wrong or used login code").ConfigureAwait(false);
        context.Response.StatusCode = StatusCodes.Status403Forbidden;
        context.Response.ContentType = "text/plain; charset=utf-8";
        await context.Response.WriteAsync(
            "This login link is not valid (each link works once, for five minutes). Run `meeshkan dashboard` on the agent's machine for a new one.\n")
            .ConfigureAwait(false);
    }

    private static async Task NewCodeAsync(HttpContext context)
    {
        var auth = Auth(context);
        context.Response.Headers.CacheControl = "no-store";
        if (!auth.HasBearerToken(context))
        {
            await auth.FailAsync(context, "login code asked for without the access token").ConfigureAwait(false);
            await ErrorAsync(context, StatusCodes.Status401Unauthorized, "a login code needs the agent's access token").ConfigureAwait(false);
            return;
        }
        auth.Succeed(context);
        var (code, expires) = auth.NewCode();
        await WriteJsonAsync(context, new LoginCode(code, expires.ToUnixTimeMilliseconds()), DashboardJson.Context.LoginCode).ConfigureAwait(false);
    }

    private static long Number(HttpContext context) => (long)Convert.ChangeType(context.Request.RouteValues["number"]!, typeof(long), CultureInfo.InvariantCulture);

    private static Task DetailAsync(HttpContext context, string session) =>
        Jobs(context).Detail(Number(context)) is { } detail
            ? WriteJsonAsync(context, detail, DashboardJson.Context.JobDetail)
            : ErrorAsync(context, StatusCodes.Status404NotFound, $"no job {Number(context)}");

    private static Task ChartAsync(HttpContext context, string session)
    {
        var query = context.Request.Query;
        var name = query["name"].ToString();
        var axis = query["x"].ToString() == "time" ? ScalarBuckets.Axis.Time : ScalarBuckets.Axis.Step;
        var width = int.TryParse(query["width"], NumberStyles.None, CultureInfo.InvariantCulture, out var w) ? Math.Clamp(w, 10, 4000) : 800;
        var chart = Jobs(context).Chart(Number(context), name, axis, Double(query["from"]), Double(query["to"]), width);
        return chart is null
            ? ErrorAsync(context, StatusCodes.Status404NotFound, $"job {Number(context)} has no scalar of that name")
            : WriteJsonAsync(context, chart, DashboardJson.Context.ChartData);

        static double? Double(string? text) =>
            double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d) ? d : null;
    }

    /// <summary>Up to 64 KB of a log ending at <c>end</c> (default: the end of the file) or starting at <c>start</c>.</summary>
    private static async Task LogAsync(HttpContext context, string session)
    {
        var stream = context.Request.Query["stream"].ToString() == "stderr" ? "stderr" : "stdout";
        if (Jobs(context).LogPath(Number(context), stream) is not { } path)
        {
            await ErrorAsync(context, StatusCodes.Status404NotFound, $"no job {Number(context)}").ConfigureAwait(false);
            return;
        }
        var query = context.Request.Query;
        long? start = long.TryParse(query["start"], NumberStyles.None, CultureInfo.InvariantCulture, out var s) ? s : null;
        long? end = long.TryParse(query["end"], NumberStyles.None, CultureInfo.InvariantCulture, out var e) ? e : null;
        var slice = await ReadLogAsync(path, stream, start, end, context.RequestAborted).ConfigureAwait(false);
        await WriteJsonAsync(context, slice, DashboardJson.Context.LogSlice).ConfigureAwait(false);
    }

    internal static async Task<LogSlice> ReadLogAsync(string path, string stream, long? start, long? end, CancellationToken cancel)
    {
        if (!File.Exists(path))
        {
            return new LogSlice(stream, 0, 0, 0, "");
        }
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 4096, useAsync: true);
        var size = file.Length;
        long from, to;
        if (start is { } first)
        {
            from = Math.Min(first, size);
            to = Math.Min(size, from + LogSliceBytes);
        }
        else
        {
            to = Math.Min(end ?? size, size);
            from = Math.Max(0, to - LogSliceBytes);
        }
        var buffer = new byte[to - from];
        file.Seek(from, SeekOrigin.Begin);
        await file.ReadExactlyAsync(buffer, cancel).ConfigureAwait(false);
        // Whole UTF-8 characters only: a cut one is left for the neighbouring slice.
        var head = 0;
        if (from > 0)
        {
            while (head < buffer.Length && head < 4 && (buffer[head] & 0xC0) == 0x80)
            {
                head++;
            }
        }
        var tail = buffer.Length;
        if (to < size || tail > 0)
        {
            var back = tail;
            while (back > head && tail - back < 4 && (buffer[back - 1] & 0xC0) == 0x80)
            {
                back--;
            }
            if (back > head && buffer[back - 1] >= 0xC0)
            {
                // A lead byte whose continuation is not all here yet.
                var need = buffer[back - 1] >= 0xF0 ? 4 : buffer[back - 1] >= 0xE0 ? 3 : 2;
                if (tail - (back - 1) < need)
                {
                    tail = back - 1;
                }
            }
        }
        var text = Encoding.UTF8.GetString(buffer, head, tail - head);
        return new LogSlice(stream, from + head, from + tail, size, text);
    }

    private static async Task CancelAsync(HttpContext context, string session) =>
        await OutcomeAsync(context, await Jobs(context).CancelAsync(Number(context)).ConfigureAwait(false)).ConfigureAwait(false);

    /// <summary>The new job, queued with the ended one's command, folder and environment.</summary>
    private static Task RetryAsync(HttpContext context, string session) => OutcomeAsync(context, Jobs(context).Retry(Number(context)));

    private static async Task OutcomeAsync(HttpContext context, DashboardJobs.Outcome outcome)
    {
        if (outcome.Refusal is { } refusal)
        {
            await ErrorAsync(context, outcome.NotFound ? StatusCodes.Status404NotFound : StatusCodes.Status409Conflict, refusal).ConfigureAwait(false);
            return;
        }
        await WriteJsonAsync(context, outcome.Job!, DashboardJson.Context.JobRow).ConfigureAwait(false);
    }

    /// <summary>
    /// Server-sent events: job rows as they change (every page), and for a job page (<c>?job=N</c>) its new scalar
    /// points, `detail` when its notifications or conditions changed, and its logs as they grow.
    /// </summary>
    private static async Task EventsAsync(HttpContext context, string session)
    {
        long? job = long.TryParse(context.Request.Query["job"], NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : null;
        var events = context.RequestServices.GetRequiredService<DashboardEvents>();
        var response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-store";
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        var subscriber = events.Subscribe(job);
        long? Offset(string stream) =>
            long.TryParse(context.Request.Query[stream], NumberStyles.None, CultureInfo.InvariantCulture, out var at) ? at : null;
        var logs = job is { } number ? new LogFollower(Jobs(context), number, Offset("stdout"), Offset("stderr")) : null;
        var cancel = context.RequestAborted;
        try
        {
            await response.WriteAsync(": open\n\n", cancel).ConfigureAwait(false);
            await response.Body.FlushAsync(cancel).ConfigureAwait(false);
            var quiet = 0;
            while (!cancel.IsCancellationRequested)
            {
                using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancel);
                wait.CancelAfter(TimeSpan.FromMilliseconds(250));
                var wrote = false;
                try
                {
                    if (await subscriber.Events.Reader.WaitToReadAsync(wait.Token).ConfigureAwait(false))
                    {
                        while (subscriber.Events.Reader.TryRead(out var message))
                        {
                            await response.WriteAsync(message, cancel).ConfigureAwait(false);
                            wrote = true;
                        }
                    }
                }
                catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
                {
                }
                if (logs is not null)
                {
                    foreach (var slice in await logs.GrownAsync(cancel).ConfigureAwait(false))
                    {
                        await response.WriteAsync($"event: log\ndata: {JsonSerializer.Serialize(slice, DashboardJson.Context.LogSlice)}\n\n", cancel).ConfigureAwait(false);
                        wrote = true;
                    }
                }
                if (!wrote && ++quiet >= 60)
                {
                    // Keeps proxies and SSH tunnels from closing an idle stream.
                    await response.WriteAsync(": still here\n\n", cancel).ConfigureAwait(false);
                    wrote = true;
                }
                if (wrote)
                {
                    quiet = 0;
                    await response.Body.FlushAsync(cancel).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (IOException)
        {
        }
        finally
        {
            events.Unsubscribe(subscriber);
        }
    }

    /// <summary>
    /// Notices a job's logs growing (one stat each per look) and reads what was added, 64 KB at a time; more than a
    /// megabyte behind, it skips to the tail (the page sees the gap and offers to load the rest).
    /// </summary>
    private sealed class LogFollower(DashboardJobs jobs, long job, long? stdout, long? stderr)
    {
        private const long MaxBehind = 1024 * 1024;
        private readonly Dictionary<string, long> _sent = Seen(stdout, stderr);

        // A job's log files stay where they are: looked up once, not with a database read every 250 ms per page.
        private readonly Dictionary<string, string?> _paths = [];

        private static Dictionary<string, long> Seen(long? stdout, long? stderr)
        {
            var seen = new Dictionary<string, long>();
            if (stdout is { } o)
            {
                seen["stdout"] = o;
            }
            if (stderr is { } e)
            {
                seen["stderr"] = e;
            }
            return seen;
        }

        public async Task<List<LogSlice>> GrownAsync(CancellationToken cancel)
        {
            var slices = new List<LogSlice>();
            foreach (var stream in new[] { "stdout", "stderr" })
            {
                if (!_paths.TryGetValue(stream, out var known))
                {
                    _paths[stream] = known = jobs.LogPath(job, stream);
                }
                if (known is not { } path)
                {
                    continue;
                }
                var size = File.Exists(path) ? new FileInfo(path).Length : 0;
                if (!_sent.TryGetValue(stream, out var sent))
                {
                    // The page read the tail itself; follow from where the file is now.
                    _sent[stream] = size;
                    continue;
                }
                if (size <= sent)
                {
                    continue;
                }
                if (size - sent > MaxBehind)
                {
                    sent = size - LogSliceBytes;
                }
                var slice = await ReadLogAsync(path, stream, sent, null, cancel).ConfigureAwait(false);
                _sent[stream] = slice.End;
                slices.Add(slice);
            }
            return slices;
        }
    }

    private static readonly object StartedKey = new();

    /// <summary>
    /// The body, with how long the agent took to make it (from the request's arrival to its body ready) in a
    /// <c>Server-Timing: agent;dur=MS</c> header: what bench/Dashboard reports as the agent's time.
    /// </summary>
    private static async Task WriteJsonAsync<T>(HttpContext context, T value, JsonTypeInfo<T> type)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(value, type);
        var response = context.Response;
        response.ContentType = "application/json; charset=utf-8";
        response.ContentLength = body.Length;
        if (context.Items[StartedKey] is long started)
        {
            response.Headers["Server-Timing"] = string.Create(CultureInfo.InvariantCulture,
                $"agent;dur={System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds:F1}");
        }
        await response.Body.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
    }

    private static Task ErrorAsync(HttpContext context, int status, string message)
    {
        context.Response.StatusCode = status;
        return WriteJsonAsync(context, new ErrorBody(message), DashboardJson.Context.ErrorBody);
    }
}
