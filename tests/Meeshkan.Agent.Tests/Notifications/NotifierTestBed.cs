using Meeshkan.Agent.Charts;
using Meeshkan.Agent.Config;
using Meeshkan.Agent.Notifications;
using Meeshkan.Agent.Store;
using Meeshkan.Testing;
using Meeshkan.V1;
using Microsoft.Extensions.Logging.Abstractions;

namespace Meeshkan.Agent.Tests.Notifications;

/// <summary>
/// The notifier as the agent wires it, on a real SQLite file in a temporary folder: observer, queue, background
/// service and lanes. Channels are given as settings; delivery is fast (short timeouts and backoff) for tests.
/// </summary>
internal sealed class NotifierTestBed : IAsyncDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("mk-notify-").FullName;

    public NotifierTestBed(NotificationSettings settings, string? configPath = null)
    {
        Database = new Database(Path.Combine(_folder, "agent.db"));
        Database.Migrate();
        Jobs = new JobStore(Database, TimeProvider.System);
        Scalars = new ScalarStore(Database);
        History = new NotificationStore(Database, TimeProvider.System);
        Intervals = new IntervalTracker(TimeProvider.System);
        Queue = new NotificationQueue(NullLogger<NotificationQueue>.Instance);
        Charts = new ScalarChartRenderer(Scalars);
        var composer = new NotificationComposer(Scalars, Charts, Intervals, TimeProvider.System);
        var source = new NotificationSettingsSource(configPath, settings, NullLogger<NotificationSettingsSource>.Instance);
        Limit = new JobMessageLimit(TimeProvider.System, () => source.Current.MessagesPerJobPerMinute);
        Service = new NotificationService(Queue, composer, Intervals, source, History, Limit, TimeProvider.System, NullLogger<NotificationService>.Instance)
        {
            IntervalTick = TimeSpan.FromMilliseconds(100),
        };
        Observer = new NotificationObserver(Queue, Intervals, Limit, NullLogger<NotificationObserver>.Instance);
        Service.StartAsync(CancellationToken.None).GetAwaiter().GetResult();
    }

    /// <summary>Settings that retry quickly: 3 attempts, 1 s per attempt, 0.1 s then 0.2 s between them.</summary>
    public static NotificationSettings Fast(Action<NotificationSettings> channels)
    {
        var settings = new NotificationSettings { Attempts = 3, TimeoutSeconds = 1, RetryDelaySeconds = 0.1 };
        channels(settings);
        return settings;
    }

    public Database Database { get; }

    public JobStore Jobs { get; }

    public ScalarStore Scalars { get; }

    public NotificationStore History { get; }

    public IntervalTracker Intervals { get; }

    public NotificationQueue Queue { get; }

    public ScalarChartRenderer Charts { get; }

    public NotificationService Service { get; }

    public JobMessageLimit Limit { get; }

    public NotificationObserver Observer { get; }

    /// <summary>A running job with its output folder, as the scheduler leaves it after the start.</summary>
    public JobRecord StartJob(string name = "train", int reportIntervalSeconds = 3600)
    {
        var job = Jobs.Insert([new JobStore.NewJob(name, ["/usr/bin/python3", "train.py", "--lr", "0.1"], _folder, null, reportIntervalSeconds)],
            n => Path.Combine(_folder, "jobs", n.ToString(System.Globalization.CultureInfo.InvariantCulture)))[0];
        Directory.CreateDirectory(job.OutputDirectory);
        Jobs.MarkRunning(job, "local", Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture), Environment.ProcessId);
        job = Jobs.GetByNumber(job.Number)!;
        Observer.JobStarted(job);
        return job;
    }

    public JobRecord EndJob(JobRecord job, JobState state, int? exitCode, string? reason = null)
    {
        Jobs.MarkEnded(job.Number, state, exitCode, reason);
        var ended = Jobs.GetByNumber(job.Number)!;
        Observer.JobEnded(ended);
        return ended;
    }

    /// <summary>Stores points (name, value) with steps counted per name, and tells the observer, as the ReportService does.</summary>
    public void Report(JobRecord job, params (string Name, double Value)[] points)
    {
        var batch = ScalarBatches.Of(job.Id, points);
        var stored = Scalars.Append(job.Number, job.ReportingAttempt, batch, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000)!;
        Observer.ScalarsReported(job, stored);
    }

    /// <summary>A training-like history: loss falling, accuracy rising, <paramref name="steps"/> points each.</summary>
    public void ReportCurves(JobRecord job, int steps)
    {
        var points = new List<(string, double)>(steps * 3);
        for (var i = 0; i < steps; i++)
        {
            var t = (double)i / steps;
            points.Add(("train_loss", 2.3 * Math.Exp(-4 * t) + 0.06 * Math.Sin(i * 40.0 / steps) * Math.Exp(-t) + 0.1));
            points.Add(("eval_loss", 2.3 * Math.Exp(-3.5 * t) + 0.25 + 0.3 * t * t));
            points.Add(("accuracy", 1 - 0.9 * Math.Exp(-5 * t)));
        }
        Report(job, points.ToArray());
    }

    /// <summary>Waits until the history has a record matching <paramref name="match"/>.</summary>
    public IReadOnlyList<NotificationRecord> WaitForHistory(long job, Func<IReadOnlyList<NotificationRecord>, bool> match, int seconds = 15)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        IReadOnlyList<NotificationRecord> records;
        do
        {
            records = History.ForJob(job);
            if (match(records))
            {
                return records;
            }
            Thread.Sleep(20);
        }
        while (DateTime.UtcNow < deadline);
        Assert.Fail("history never matched; it has:\n" + string.Join("\n", records.Select(r => $"{r.Event} {r.Channel} {r.Status} #{r.Attempt} {r.Reason}")));
        return records;
    }

    public async ValueTask DisposeAsync()
    {
        await Service.StopAsync(CancellationToken.None);
        Service.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
