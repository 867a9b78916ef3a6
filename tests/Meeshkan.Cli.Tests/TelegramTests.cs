using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Meeshkan.Testing;
using Meeshkan.V1;

namespace Meeshkan.Cli.Tests;

/// <summary>
/// The agent's Telegram bot against a fake Bot API on 127.0.0.1 that speaks the documented methods the agent uses
/// (getUpdates with long polling and offsets, sendMessage, sendPhoto as multipart, answerCallbackQuery).
/// </summary>
[TestFixture]
public sealed class TelegramTests() : SandboxFixture(AgentPer.Test)
{
    private const string BotToken = "123456789:AAE-fake-bot-token-never-logged";
    private const long Allowed = 111;
    private const long Stranger = 999;

    private FakeBotApi _bot = null!;
    private string _agentLog = "";

    protected override void Prepare(MeeshkanSandbox sandbox)
    {
        _bot = new FakeBotApi(BotToken) { FailFirstPolls = 1 };
        var setup = sandbox.Run("setup", "--telegram-token", BotToken, "--telegram-chat", Allowed.ToString(), "--telegram-api", _bot.BaseAddress);
        Assert.That(setup.ExitCode, Is.Zero, setup.ToString());
        Assert.That(setup.Stdout + setup.Stderr, Does.Not.Contain(BotToken));
    }

    /// <summary>Runs before the agent's folder goes: its whole log, once it has stopped.</summary>
    [TearDown]
    public void StopAndReadLog()
    {
        var log = Path.Combine(Sandbox.Home, "logs", "agent.log");
        Sandbox.Run("stop", "--cancel-jobs");
        _agentLog = File.Exists(log) ? File.ReadAllText(log) : "";
    }

    protected override void Stopped()
    {
        _bot.Dispose();
        Assert.That(_agentLog, Does.Not.Contain(BotToken).And.Not.Contain("AAE-fake"), "the bot token is in no log line");
    }

    [Test]
    public void The_bot_answers_each_command_from_the_allowed_chat_and_sends_the_chart_as_a_photo()
    {
        var printer = Sandbox.Submit("-n", "printer", "--", "/bin/sh", "-c", "echo hello-out; echo oops-err >&2");
        Sandbox.WaitForEnd(printer);
        var trainer = RegisterJobWithScalars("trainer");

        _bot.PushMessage(Allowed, "/list");
        var list = _bot.WaitForSent(s => s.Method == "sendMessage" && s.Text.StartsWith("Latest", StringComparison.Ordinal));
        Assert.That(list.ChatId, Is.EqualTo(Allowed));
        Assert.That(list.Text, Does.Contain($"#{printer} printer: FINISHED").And.Contain($"#{trainer} trainer: RUNNING"));

        _bot.PushMessage(Allowed, $"/status {printer}");
        var status = _bot.WaitForSent(s => s.Text.StartsWith($"Job {printer} (printer): FINISHED", StringComparison.Ordinal));
        Assert.That(status.Text, Does.Contain("Exit status: 0"));

        _bot.PushMessage(Allowed, $"/logs@meeshkan_bot {printer}");
        var logs = _bot.WaitForSent(s => s.Text.Contains("stdout, last", StringComparison.Ordinal));
        Assert.That(logs.Text, Does.Contain("hello-out").And.Contain("oops-err"));

        _bot.PushMessage(Allowed, "/report trainer");
        var values = _bot.WaitForSent(s => s.Method == "sendMessage" && s.Text.StartsWith($"Job {trainer} (trainer), RUNNING", StringComparison.Ordinal));
        Assert.That(values.Text, Does.Contain("loss").And.Contain("0.25"));
        var photo = _bot.WaitForSent(s => s.Method == "sendPhoto" && s.Caption == $"Job {trainer} (trainer)");
        Assert.That(photo.ChatId, Is.EqualTo(Allowed));
        Assert.That(photo.Photo.AsSpan(0, 8).ToArray(), Is.EqualTo(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }), "a PNG upload");

        _bot.PushMessage(Allowed, "/status 42");
        Assert.That(_bot.WaitForSent(s => s.Text.Contains("No job matches '42'", StringComparison.Ordinal)).ChatId, Is.EqualTo(Allowed));

        // Telegram is a notification channel too.
        var finished = _bot.WaitForSent(s => s.Method == "sendMessage" && s.Text.StartsWith($"Job {printer} (printer) finished", StringComparison.Ordinal));
        Assert.That(finished.ChatId, Is.EqualTo(Allowed));
        Assert.That(File.ReadAllText(Path.Combine(Sandbox.Home, "logs", "agent.log")), Does.Contain("Telegram bot: polling failed"),
            "the first poll failed and was retried");
    }

    [Test]
    public void Messages_and_buttons_from_another_chat_are_ignored_and_logged()
    {
        _bot.PushMessage(Stranger, "/list");
        _bot.PushCallback(Stranger, "cancel:1");
        _bot.PushMessage(Allowed, "/list");
        _bot.WaitForSent(s => s.ChatId == Allowed && s.Method == "sendMessage" && s.Text.StartsWith("No jobs yet", StringComparison.Ordinal));
        Assert.That(_bot.Sent.Where(s => s.ChatId == Stranger), Is.Empty, "updates are handled in order: the stranger's came first, unanswered");
        Assert.That(_bot.CallbackAnswers, Is.Empty);
        var log = File.ReadAllText(Path.Combine(Sandbox.Home, "logs", "agent.log"));
        Assert.That(log, Does.Contain($"ignored a message from chat {Stranger}").And.Contain($"ignored a button press from chat {Stranger}"));
    }

    [Test]
    public void A_job_is_canceled_only_after_confirmation_by_button_or_confirm()
    {
        var first = Sandbox.Submit("-n", "long-one", "--", "sleep", "300");
        Sandbox.WaitForState(first, TimeSpan.FromSeconds(20), "RUNNING");

        _bot.PushMessage(Allowed, $"/cancel {first}");
        var question = _bot.WaitForSent(s => s.Text.StartsWith($"Cancel job {first} (long-one)", StringComparison.Ordinal));
        var button = question.ReplyMarkup?["inline_keyboard"]?[0]?[0];
        Assert.That(button?["callback_data"]?.GetValue<string>(), Is.EqualTo($"cancel:{first}"));
        Thread.Sleep(500);
        Assert.That(Sandbox.Job(first)!.State, Is.EqualTo("RUNNING"), "asking is not canceling");

        _bot.PushMessage(Stranger, $"/confirm {first}");
        _bot.PushCallback(Stranger, $"cancel:{first}");
        _bot.PushMessage(Allowed, "/list");
        _bot.WaitForSent(s => s.Text.StartsWith("Latest", StringComparison.Ordinal));
        Assert.That(Sandbox.Job(first)!.State, Is.EqualTo("RUNNING"), "another chat cannot confirm");

        var pressId = _bot.PushCallback(Allowed, $"cancel:{first}");
        var done = _bot.WaitForSent(s => s.Text.StartsWith($"Job {first} (long-one) canceled (was RUNNING)", StringComparison.Ordinal));
        Assert.That(done.ChatId, Is.EqualTo(Allowed));
        Assert.That(_bot.CallbackAnswers, Does.Contain(pressId), "the button press is answered");
        Assert.That(Sandbox.Job(first)!.State, Is.EqualTo("CANCELED"));

        var second = Sandbox.Submit("-n", "second", "--", "sleep", "300");
        Sandbox.WaitForState(second, TimeSpan.FromSeconds(20), "RUNNING");
        _bot.PushMessage(Allowed, $"/confirm {second}");
        _bot.WaitForSent(s => s.Text.StartsWith($"Nothing to confirm for job {second}", StringComparison.Ordinal));
        Assert.That(Sandbox.Job(second)!.State, Is.EqualTo("RUNNING"), "a confirmation without a question does nothing");
        _bot.PushMessage(Allowed, $"/cancel {second}");
        _bot.WaitForSent(s => s.Text.StartsWith($"Cancel job {second}", StringComparison.Ordinal));
        _bot.PushMessage(Allowed, $"/confirm {second}");
        _bot.WaitForSent(s => s.Text.StartsWith($"Job {second} (second) canceled (was RUNNING)", StringComparison.Ordinal));
        Assert.That(Sandbox.Job(second)!.State, Is.EqualTo("CANCELED"));
    }

    /// <summary>A running job (this test process) that reported loss 1, 0.5, 0.25.</summary>
    private long RegisterJobWithScalars(string name)
    {
        using var channel = AgentChannel.ForSocket(Sandbox.SocketPath);
        var reports = new ReportService.ReportServiceClient(channel);
        var job = reports.RegisterJob(new RegisterJobRequest { Name = name, Pid = Environment.ProcessId, Command = { "trainer" } });
        reports.ReportScalars(new ScalarBatch { JobId = job.Id, Names = { "loss" }, NameIndex = { 0, 0, 0 }, Values = { 1, 0.5, 0.25 } });
        return job.Number;
    }
}

/// <summary>A Bot API server on 127.0.0.1 with one bot, recording what the agent sends.</summary>
internal sealed class FakeBotApi : IDisposable
{
    public sealed record SentItem(string Method, long ChatId, string Text, JsonNode? ReplyMarkup, string? Caption, byte[] Photo);

    private readonly HttpListener _listener = new();
    private readonly string _token;
    private readonly Lock _lock = new();
    private readonly List<JsonObject> _updates = [];
    private readonly List<SentItem> _sent = [];
    private readonly List<string> _callbackAnswers = [];
    private readonly SemaphoreSlim _arrived = new(0);
    private long _nextUpdateId = 1000;
    private long _nextMessageId = 1;
    private int _polls;

    public FakeBotApi(string token)
    {
        _token = token;
        var port = Ports.Free();
        BaseAddress = $"http://127.0.0.1:{port}";
        _listener.Prefixes.Add(BaseAddress + "/");
        _listener.Start();
        _ = Task.Run(ServeAsync);
    }

    public string BaseAddress { get; }

    /// <summary>This many getUpdates calls fail with 502 first (the agent must retry and not log the token).</summary>
    public int FailFirstPolls { get; init; }

    public IReadOnlyList<SentItem> Sent
    {
        get
        {
            lock (_lock)
            {
                return [.. _sent];
            }
        }
    }

    public IReadOnlyList<string> CallbackAnswers
    {
        get
        {
            lock (_lock)
            {
                return [.. _callbackAnswers];
            }
        }
    }

    public void PushMessage(long chat, string text) => Push(id => new JsonObject
    {
        ["message"] = new JsonObject
        {
            ["message_id"] = id,
            ["from"] = new JsonObject { ["id"] = chat, ["is_bot"] = false, ["first_name"] = "Test" },
            ["chat"] = new JsonObject { ["id"] = chat, ["type"] = "private" },
            ["date"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            ["text"] = text,
        },
    });

    /// <returns>The callback query's id.</returns>
    public string PushCallback(long chat, string data)
    {
        var queryId = Guid.NewGuid().ToString("N");
        Push(id => new JsonObject
        {
            ["callback_query"] = new JsonObject
            {
                ["id"] = queryId,
                ["from"] = new JsonObject { ["id"] = chat, ["is_bot"] = false, ["first_name"] = "Test" },
                ["message"] = new JsonObject
                {
                    ["message_id"] = id,
                    ["chat"] = new JsonObject { ["id"] = chat, ["type"] = "private" },
                    ["date"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
                },
                ["chat_instance"] = "1",
                ["data"] = data,
            },
        });
        return queryId;
    }

    public SentItem WaitForSent(Func<SentItem, bool> match, int seconds = 30)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(seconds))
        {
            if (Sent.FirstOrDefault(match) is { } found)
            {
                return found;
            }
            Thread.Sleep(25);
        }
        throw new TimeoutException("the bot did not send the expected message; it sent:\n" +
            string.Join("\n", Sent.Select(s => $"  {s.Method} to {s.ChatId}: {s.Text}{s.Caption}")));
    }

    private void Push(Func<long, JsonObject> update)
    {
        lock (_lock)
        {
            var id = _nextUpdateId++;
            var body = update(id);
            body["update_id"] = id;
            _updates.Add(body);
        }
        _arrived.Release();
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
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
            var path = context.Request.Url!.AbsolutePath;
            var prefix = $"/bot{_token}/";
            if (!path.StartsWith(prefix, StringComparison.Ordinal))
            {
                await ReplyAsync(context, 401, new JsonObject { ["ok"] = false, ["error_code"] = 401, ["description"] = "Unauthorized" });
                return;
            }
            using var buffer = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(buffer);
            var body = buffer.ToArray();
            var method = path[prefix.Length..];
            switch (method)
            {
                case "getUpdates":
                    await GetUpdatesAsync(context, JsonNode.Parse(body)!);
                    return;
                case "sendMessage":
                {
                    var json = JsonNode.Parse(body)!;
                    var chat = json["chat_id"]!.GetValue<long>();
                    Record(new SentItem(method, chat, json["text"]!.GetValue<string>(), json["reply_markup"]?.DeepClone(), null, []));
                    await ReplyAsync(context, 200, Ok(Message(chat)));
                    return;
                }
                case "sendPhoto":
                {
                    var parts = Multipart.Parse(context.Request.ContentType!, body);
                    var chat = long.Parse(Encoding.UTF8.GetString(parts["chat_id"]), System.Globalization.CultureInfo.InvariantCulture);
                    var caption = parts.TryGetValue("caption", out var c) ? Encoding.UTF8.GetString(c) : null;
                    Record(new SentItem(method, chat, "", null, caption, parts["photo"]));
                    await ReplyAsync(context, 200, Ok(Message(chat)));
                    return;
                }
                case "answerCallbackQuery":
                {
                    var json = JsonNode.Parse(body)!;
                    lock (_lock)
                    {
                        _callbackAnswers.Add(json["callback_query_id"]!.GetValue<string>());
                    }
                    await ReplyAsync(context, 200, Ok(true));
                    return;
                }
                default:
                    await ReplyAsync(context, 404, new JsonObject { ["ok"] = false, ["error_code"] = 404, ["description"] = "Not Found" });
                    return;
            }
        }
        catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or IOException)
        {
        }
    }

    private async Task GetUpdatesAsync(HttpListenerContext context, JsonNode request)
    {
        if (Interlocked.Increment(ref _polls) <= FailFirstPolls)
        {
            await ReplyAsync(context, 502, new JsonObject { ["ok"] = false, ["error_code"] = 502, ["description"] = "Bad Gateway" });
            return;
        }
        var offset = request["offset"]?.GetValue<long>() ?? 0;
        // Long polling, held at most 1 s here so that tests and agent shutdown stay quick.
        var holdSeconds = Math.Min(request["timeout"]?.GetValue<int>() ?? 0, 1);
        var deadline = DateTime.UtcNow.AddSeconds(holdSeconds);
        while (true)
        {
            JsonArray result;
            lock (_lock)
            {
                // Telegram forgets updates older than the offset the client confirmed.
                _updates.RemoveAll(u => u["update_id"]!.GetValue<long>() < offset);
                result = new JsonArray([.. _updates.Select(u => u.DeepClone())]);
            }
            var left = deadline - DateTime.UtcNow;
            if (result.Count > 0 || left <= TimeSpan.Zero)
            {
                await ReplyAsync(context, 200, Ok(result));
                return;
            }
            await _arrived.WaitAsync(left);
        }
    }

    private JsonObject Message(long chat)
    {
        lock (_lock)
        {
            return new JsonObject
            {
                ["message_id"] = _nextMessageId++,
                ["chat"] = new JsonObject { ["id"] = chat, ["type"] = "private" },
                ["date"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            };
        }
    }

    private void Record(SentItem item)
    {
        lock (_lock)
        {
            _sent.Add(item);
        }
    }

    private static JsonObject Ok(JsonNode result) => new() { ["ok"] = true, ["result"] = result };

    private static async Task ReplyAsync(HttpListenerContext context, int status, JsonNode body)
    {
        var bytes = Encoding.UTF8.GetBytes(body.ToJsonString());
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        context.Response.ContentLength64 = bytes.Length;
        await context.Response.OutputStream.WriteAsync(bytes);
        context.Response.Close();
    }

    public void Dispose()
    {
        _listener.Close();
        _arrived.Dispose();
    }

    /// <summary>Just enough multipart/form-data parsing for sendPhoto: part name to bytes.</summary>
    private static class Multipart
    {
        public static Dictionary<string, byte[]> Parse(string contentType, byte[] body)
        {
            var boundary = contentType.Split(';').Select(p => p.Trim()).First(p => p.StartsWith("boundary=", StringComparison.OrdinalIgnoreCase))[9..].Trim('"');
            // Latin-1 maps each byte to one char, so offsets in the string are offsets in the bytes.
            var text = Encoding.Latin1.GetString(body);
            var parts = new Dictionary<string, byte[]>();
            foreach (var section in text.Split("--" + boundary))
            {
                var split = section.IndexOf("\r\n\r\n", StringComparison.Ordinal);
                if (split < 0)
                {
                    continue;
                }
                var headers = section[..split];
                var name = headers.Split("name=", 2) is [_, var rest] ? rest.Split(';', '\r', '\n')[0].Trim('"') : null;
                if (name is null)
                {
                    continue;
                }
                var content = section[(split + 4)..];
                if (content.EndsWith("\r\n", StringComparison.Ordinal))
                {
                    content = content[..^2];
                }
                parts[name] = Encoding.Latin1.GetBytes(content);
            }
            return parts;
        }
    }
}
