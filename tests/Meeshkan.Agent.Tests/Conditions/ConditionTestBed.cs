using Meeshkan.Agent.Conditions;
using Meeshkan.Agent.Config;
using Meeshkan.Agent.Store;
using Meeshkan.Testing;
using Meeshkan.V1;
using Microsoft.Extensions.Logging.Abstractions;

namespace Meeshkan.Agent.Tests.Conditions;

/// <summary>A fixture whose every test gets a new <see cref="ConditionTestBed"/> (<see cref="Bed"/>), removed after it.</summary>
public abstract class ConditionBedFixture
{
    protected ConditionTestBed Bed { get; private set; } = null!;

    [SetUp]
    public void MakeBed() => Bed = new ConditionTestBed();

    [TearDown]
    public void RemoveBed() => Bed.Dispose();
}

/// <summary>A real agent database in a temporary folder, a running job, and a condition engine over them.</summary>
public sealed class ConditionTestBed : IDisposable
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

    /// <summary>Runs a call of the engine and turns its refusal into the status a client gets (Services/ErrorInterceptor).</summary>
    public static T AsServed<T>(Func<T> call)
    {
        try
        {
            return call();
        }
        catch (Meeshkan.Agent.Jobs.JobException e)
        {
            throw Services.ErrorInterceptor.ToRpc(e);
        }
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

    /// <summary>The ReportService over this bed's store and engine, as the agent wires it.</summary>
    public Services.ReportServiceImpl NewReportService()
    {
        var observers = new Meeshkan.Agent.Jobs.JobObservers([Observer], NullLogger.Instance);
        var resolver = new Meeshkan.Agent.Jobs.JobResolver(Jobs);
        var options = new AgentOptions { Home = new MeeshkanHome(_folder) };
        var unsent = new Scalars.UnsentScalars(options, Jobs, Scalars, observers, Time, NullLogger<Scalars.UnsentScalars>.Instance);
        var reports = new Meeshkan.Agent.Jobs.JobReports(resolver, Scalars, Engine, observers, Time);
        var output = new Meeshkan.Agent.OutputScalars.OutputScalarReader(reports, Scalars, NullLogger<Meeshkan.Agent.OutputScalars.OutputScalarReader>.Instance);
        var lifecycle = new Meeshkan.Agent.Jobs.JobLifecycle(Jobs, options, Config,
            new Scheduler.RunLoopInbox(), Engine, unsent, output, observers, NullLogger<Meeshkan.Agent.Jobs.JobLifecycle>.Instance);
        return new Services.ReportServiceImpl(reports, lifecycle, resolver);
    }

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
        var batch = ScalarBatches.Of(job.Id, points.Select(p => (p.Name, p.Value)).ToArray());
        batch.WallTimeUs.AddRange(points.Select(p => Time.GetUtcNow().ToUnixTimeMilliseconds() * 1000 + p.WallTimeUs));
        return Scalars.Append(job.Number, job.ReportingAttempt, batch, Time.GetUtcNow().ToUnixTimeMilliseconds() * 1000)!;
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
public sealed class FakeTime(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start;

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}

/// <summary>Remembers every condition firing it hears.</summary>
public sealed class RecordingObserver : IAgentObserver
{
    public List<(JobRecord Job, ConditionEvent Event, bool OnlyReported)> Met { get; } = [];

    public void ConditionMet(JobRecord job, ConditionEvent conditionEvent, bool onlyReported) =>
        Met.Add((job, conditionEvent, onlyReported));
}
