using System.Collections.Concurrent;

namespace Meeshkan.Client.Tests;

/// <summary>A fake agent per test and reporters pointed at it, with their warnings captured.</summary>
public abstract class ReporterTestBase
{
    protected const string JobId = "3f6c1a2e-0000-4000-8000-000000000001";

    private readonly List<IAsyncDisposable> _cleanup = [];

    protected FakeAgent Agent { get; private set; } = null!;

    protected ConcurrentQueue<string> Warnings { get; } = new();

    [SetUp]
    public async Task StartAgent()
    {
        Warnings.Clear();
        Agent = await FakeAgent.Create().StartAsync();
    }

    [TearDown]
    public async Task StopAll()
    {
        foreach (var item in Enumerable.Reverse(_cleanup))
        {
            await item.DisposeAsync();
        }
        _cleanup.Clear();
        await Agent.DisposeAsync();
    }

    protected ScalarReporter NewReporter(string? jobId = JobId, string? socketPath = null, Action<ScalarReporterOptions>? configure = null)
    {
        var options = new ScalarReporterOptions
        {
            JobId = jobId,
            SocketPath = socketPath ?? Agent.SocketPath,
            FlushOnProcessExit = false,
            ShutdownTimeout = TimeSpan.FromSeconds(2),
            Warning = Warnings.Enqueue,
        };
        configure?.Invoke(options);
        var reporter = new ScalarReporter(options);
        _cleanup.Add(reporter);
        return reporter;
    }
}
