using System.Collections.Concurrent;
using System.Net;
using Meeshkan.Testing;

namespace Meeshkan.Agent.Tests.Notifications;

/// <summary>One request as the receiver saw it.</summary>
internal sealed record ReceivedRequest(string Path, string ContentType, IReadOnlyDictionary<string, string> Headers, byte[] Body, DateTimeOffset At)
{
    public string Text => System.Text.Encoding.UTF8.GetString(Body);
}

/// <summary>
/// A real HTTP server on 127.0.0.1 (HttpListener) standing in for Slack, Discord or a webhook receiver. It records
/// every request and answers with <see cref="Status"/>, after <see cref="Delay"/> (a long delay is a hanging server).
/// </summary>
internal sealed class HttpReceiver : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public HttpReceiver()
    {
        Port = Ports.Free();
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _loop = Task.Run(LoopAsync);
    }

    public int Port { get; }

    public string Url(string path) => $"http://127.0.0.1:{Port}{path}";

    public HttpStatusCode Status { get; set; } = HttpStatusCode.OK;

    public TimeSpan Delay { get; set; } = TimeSpan.Zero;

    /// <summary>Answers given to the first requests, in order (status, body, Retry-After header); then <see cref="Status"/>.</summary>
    public ConcurrentQueue<(HttpStatusCode Status, string Body, string? RetryAfter)> Scripted { get; } = new();

    /// <summary>The body of an OK answer.</summary>
    public string OkBody { get; set; } = "ok";

    public ConcurrentQueue<ReceivedRequest> Requests { get; } = new();

    /// <summary>Waits until at least <paramref name="count"/> requests came in.</summary>
    public IReadOnlyList<ReceivedRequest> WaitFor(int count, int seconds = 10)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (Requests.Count < count && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(20);
        }
        Assert.That(Requests, Has.Count.GreaterThanOrEqualTo(count), $"the receiver got {Requests.Count} requests, expected {count}");
        return Requests.ToList();
    }

    private async Task LoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception) when (_stop.IsCancellationRequested || !_listener.IsListening)
            {
                return;
            }
            _ = Task.Run(() => HandleAsync(context));
        }
    }

    private async Task HandleAsync(HttpListenerContext context)
    {
        try
        {
            using var body = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(body);
            var headers = context.Request.Headers.AllKeys.Where(k => k is not null)
                .ToDictionary(k => k!, k => context.Request.Headers[k] ?? "", StringComparer.OrdinalIgnoreCase);
            Requests.Enqueue(new ReceivedRequest(context.Request.Url!.AbsolutePath, context.Request.ContentType ?? "", headers, body.ToArray(), DateTimeOffset.UtcNow));
            if (Delay > TimeSpan.Zero)
            {
                await Task.Delay(Delay, _stop.Token);
            }
            var (status, text, retryAfter) = Scripted.TryDequeue(out var scripted)
                ? scripted : (Status, Status == HttpStatusCode.OK ? OkBody : "server error", (string?)null);
            context.Response.StatusCode = (int)status;
            if (retryAfter is not null)
            {
                context.Response.Headers["Retry-After"] = retryAfter;
            }
            var answer = System.Text.Encoding.UTF8.GetBytes(text);
            await context.Response.OutputStream.WriteAsync(answer);
            context.Response.Close();
        }
        catch (Exception)
        {
            // The client gave up (timeout) or the receiver stops.
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Close();
        try
        {
            _loop.Wait(2000);
        }
        catch (AggregateException)
        {
        }
    }
}
