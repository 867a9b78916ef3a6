using System.Collections.Concurrent;
using System.Text.Json;
using System.Threading.Channels;
using Meeshkan.Agent.Store;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Meeshkan.Agent.Dashboard;

/// <summary>
/// Feeds open dashboards: hears job events as an <see cref="IAgentObserver"/> (returning at once; with no dashboard
/// open it does nothing at all), and one background pump turns them into server-sent events, each serialized once
/// for every page that wants it. Reported points are batched every 200 ms and thinned to a few hundred per scalar.
/// Submissions, `clear` and notifications, which no observer call announces yet, are seen by a cheap reading
/// (<see cref="ChangeStamp"/>) twice a second while a page is open.
/// </summary>
internal sealed class DashboardEvents(IServiceProvider services, ILogger<DashboardEvents> logger) : BackgroundService, IAgentObserver
{
    // Resolved on first use: the scheduler behind DashboardJobs hears this observer, so it cannot be built first.
    private DashboardJobs? _jobs;

    private DashboardJobs Jobs => _jobs ??= Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<DashboardJobs>(services);

    private const int MaxPointsPerEvent = 400;
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(200);

    private readonly ConcurrentDictionary<Subscriber, byte> _subscribers = new();
    private readonly ConcurrentDictionary<long, byte> _changed = new();
    private readonly Channel<(long Job, IReadOnlyList<ScalarStore.Series> Series)> _reported =
        Channel.CreateBounded<(long, IReadOnlyList<ScalarStore.Series>)>(new BoundedChannelOptions(10_000) { FullMode = BoundedChannelFullMode.DropOldest });

    /// <summary>One open page: the job it shows (null: the jobs page) and its queue of events, oldest dropped when full.</summary>
    public sealed class Subscriber(long? job)
    {
        public long? Job { get; } = job;

        public Channel<string> Events { get; } =
            Channel.CreateBounded<string>(new BoundedChannelOptions(2_000) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
    }

    public Subscriber Subscribe(long? job)
    {
        var subscriber = new Subscriber(job);
        _subscribers[subscriber] = 0;
        return subscriber;
    }

    public void Unsubscribe(Subscriber subscriber) => _subscribers.TryRemove(subscriber, out _);

    void IAgentObserver.JobStarted(JobRecord job) => Changed(job.Number);

    void IAgentObserver.JobEnded(JobRecord job) => Changed(job.Number);

    void IAgentObserver.ConditionMet(JobRecord job, V1.ConditionEvent conditionEvent, bool onlyReported) => Changed(job.Number);

    void IAgentObserver.CustomMessage(JobRecord job, string message) => Changed(job.Number);

    void IAgentObserver.ScalarsReported(JobRecord job, IReadOnlyList<ScalarStore.Series> series)
    {
        if (!_subscribers.IsEmpty && _subscribers.Keys.Any(s => s.Job == job.Number))
        {
            _reported.Writer.TryWrite((job.Number, series));
        }
    }

    private void Changed(long number)
    {
        if (!_subscribers.IsEmpty)
        {
            _changed[number] = 0;
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stopping)
    {
        ChangeStamp.Reading? last = null;
        var sinceStamp = TimeSpan.Zero;
        using var timer = new PeriodicTimer(Tick);
        while (await timer.WaitForNextTickAsync(stopping).ConfigureAwait(false))
        {
            try
            {
                if (_subscribers.IsEmpty)
                {
                    last = null;
                    while (_reported.Reader.TryRead(out _))
                    {
                    }
                    continue;
                }
                sinceStamp += Tick;
                if (last is null || sinceStamp >= TimeSpan.FromMilliseconds(400))
                {
                    sinceStamp = TimeSpan.Zero;
                    last = ReadStamp(last);
                }
                SendChangedJobs();
                SendPoints();
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                DashboardLog.PumpFailed(logger, e);
            }
        }
    }

    private ChangeStamp.Reading ReadStamp(ChangeStamp.Reading? last)
    {
        var now = Jobs.Stamp();
        if (last is not { } before || now == before)
        {
            return now;
        }
        if (now.Jobs < before.Jobs + (now.NewestJob - before.NewestJob))
        {
            // Jobs went away (`clear`): pages read the list again.
            Broadcast(null, Sse("reload", "{}"), everyone: true);
        }
        foreach (var job in Jobs.Since(before.NewestJob))
        {
            Broadcast(job.Number, Sse("job", JsonSerializer.Serialize(job, DashboardJson.Context.JobRow)), everyone: true);
        }
        foreach (var number in Jobs.TouchedSince(before))
        {
            _changed[number] = 0;
        }
        return now;
    }

    private void SendChangedJobs()
    {
        foreach (var number in _changed.Keys)
        {
            _changed.TryRemove(number, out _);
            if (Jobs.Get(number) is { } row)
            {
                Broadcast(number, Sse("job", JsonSerializer.Serialize(row, DashboardJson.Context.JobRow)), everyone: true);
                Broadcast(number, Sse("detail", $"{{\"job\":{number}}}"), everyone: false);
            }
        }
    }

    private void SendPoints()
    {
        var pending = new Dictionary<(long Job, string Name), List<ScalarStore.Series>>();
        while (_reported.Reader.TryRead(out var batch))
        {
            foreach (var s in batch.Series)
            {
                if (s.Steps.Length == 0)
                {
                    continue;
                }
                if (!pending.TryGetValue((batch.Job, s.Name), out var list))
                {
                    pending[(batch.Job, s.Name)] = list = [];
                }
                list.Add(s);
            }
        }
        foreach (var ((job, name), parts) in pending)
        {
            var points = Thin(job, name, parts);
            Broadcast(job, Sse("scalars", JsonSerializer.Serialize(points, DashboardJson.Context.ScalarPoints)), everyone: false);
        }
    }

    /// <summary>All the points when few; else each run of points reduced to its lowest and highest.</summary>
    private static ScalarPoints Thin(long job, string name, List<ScalarStore.Series> parts)
    {
        var total = parts.Sum(p => p.Steps.Length);
        var per = Math.Max(1, (int)Math.Ceiling(total / (MaxPointsPerEvent / 2.0)));
        var steps = new List<double>();
        var times = new List<double>();
        var values = new List<double>();
        var run = new List<(long Step, long Time, double Value)>(per);
        void Flush()
        {
            var finite = run.Where(p => double.IsFinite(p.Value)).ToList();
            if (per == 1 || finite.Count <= 2)
            {
                foreach (var p in finite)
                {
                    Add(p);
                }
            }
            else
            {
                var lo = finite.MinBy(p => p.Value);
                var hi = finite.MaxBy(p => p.Value);
                var (a, b) = lo.Step <= hi.Step ? (lo, hi) : (hi, lo);
                Add(a);
                Add(b);
            }
            run.Clear();
        }
        void Add((long Step, long Time, double Value) p)
        {
            steps.Add(p.Step);
            times.Add(p.Time * 1e-6);
            values.Add(p.Value);
        }
        foreach (var part in parts)
        {
            for (var i = 0; i < part.Steps.Length; i++)
            {
                run.Add((part.Steps[i], part.WallTimesUs[i], part.Values[i]));
                if (run.Count == per)
                {
                    Flush();
                }
            }
        }
        Flush();
        return new ScalarPoints(job, name, [.. steps], [.. times], [.. values]);
    }

    /// <summary>To the pages showing <paramref name="job"/>, and with <paramref name="everyone"/> to the jobs pages too.</summary>
    private void Broadcast(long? job, string message, bool everyone)
    {
        foreach (var subscriber in _subscribers.Keys)
        {
            if (subscriber.Job == job || (everyone && subscriber.Job is null))
            {
                subscriber.Events.Writer.TryWrite(message);
            }
        }
    }

    private static string Sse(string name, string json) => $"event: {name}\ndata: {json}\n\n";
}
