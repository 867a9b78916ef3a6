using Meeshkan.Agent.Conditions;
using Meeshkan.Agent.Config;
using Meeshkan.Agent.Store;
using Meeshkan.V1;
using Microsoft.Extensions.Logging.Abstractions;

namespace Meeshkan.Agent.Tests.Conditions;

/// <summary>A real agent database in a temporary folder, a running job, and a condition engine over them.</summary>
internal sealed class ConditionTestBed : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("meeshkan-conditions-").FullName;

    public ConditionTestBed()
    {
        Database = new Database(Path.Combine(_folder, "agent.db"));
        Database.Migrate();
        Jobs = new JobStore(Database, Time);
        Scalars = new ScalarStore(Database);
        Job = NewJob();
        Engine = NewEngine();
    }

    public FakeTime Time { get; } = new(new DateTimeOffset(2025, 1, 1, 12, 0, 0, TimeSpan.Zero));

    public Database Database { get; }

    public JobStore Jobs { get; }

    /// <summary>Survives <see cref="Restart"/> like the file does: its cache is rebuilt from SQLite anyway.</summary>
    public ScalarStore Scalars { get; private set; }

    public JobRecord Job { get; }

    public RecordingObserver Observer { get; } = new();

    public AgentConfig Config { get; } = new();

    public ConditionEngine Engine { get; private set; }

    public JobRecord NewJob() =>
        Jobs.Insert([new JobStore.NewJob("train", ["python", "train.py"], _folder, null, 60, External: true)],
            n => Path.Combine(_folder, $"job{n}"), JobState.Running)[0];

    public ConditionEngine NewEngine() =>
        new(new ConditionStore(Database), Scalars, Config, [Observer], Time, NullLogger<ConditionEngine>.Instance);

    /// <summary>A new agent process on the same file: nothing is kept in memory.</summary>
    public void Restart()
    {
        Scalars = new ScalarStore(Database);
        Engine = NewEngine();
    }

    public string AddExpression(string expression, int cooldownSeconds = 0, JobRecord? job = null) =>
        Engine.Add(job ?? Job, new AddConditionRequest { Expression = expression, CooldownSeconds = cooldownSeconds }).Id;

    /// <summary>Stores a batch like the ReportService does and evaluates the job's conditions on it.</summary>
    public void Report(params (string Name, double Value)[] points) => Report(Job, points);

    public void Report(JobRecord job, params (string Name, double Value)[] points) =>
        Engine.Evaluate(job, Store(job, points.Select((p, i) => (p.Name, p.Value, (long)i)).ToArray()));

    /// <summary>Stores a batch with explicit wall times (microseconds) and returns what the engine is given.</summary>
    public IReadOnlyList<ScalarStore.Series> Store(JobRecord job, (string Name, double Value, long WallTimeUs)[] points)
    {
        var batch = new ScalarBatch { JobId = job.Id };
        foreach (var (name, value, wall) in points)
        {
            var index = batch.Names.IndexOf(name);
            if (index < 0)
            {
                batch.Names.Add(name);
                index = batch.Names.Count - 1;
            }
            batch.NameIndex.Add((uint)index);
            batch.Values.Add(value);
            batch.WallTimeUs.Add(Time.GetUtcNow().ToUnixTimeMilliseconds() * 1000 + wall);
        }
        return Scalars.Append(job.Number, batch, Time.GetUtcNow().ToUnixTimeMilliseconds() * 1000)!;
    }

    /// <summary>The firings stored for a job, oldest first.</summary>
    public IReadOnlyList<ConditionEvent> Events(JobRecord? job = null) => new ConditionStore(Database).ConditionEvents((job ?? Job).Number);

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
    }
}

/// <summary>A clock the test moves.</summary>
internal sealed class FakeTime(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start;

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}

/// <summary>Remembers every condition firing it hears.</summary>
internal sealed class RecordingObserver : IAgentObserver
{
    public List<(JobRecord Job, ConditionEvent Event, bool OnlyReported)> Met { get; } = [];

    public void ConditionMet(JobRecord job, ConditionEvent conditionEvent, bool onlyReported) =>
        Met.Add((job, conditionEvent, onlyReported));
}
