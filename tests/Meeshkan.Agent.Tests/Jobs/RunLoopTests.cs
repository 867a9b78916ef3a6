using System.Collections.Concurrent;
using Meeshkan.Agent.Conditions;
using Meeshkan.Agent.Config;
using Meeshkan.Agent.Executors;
using Meeshkan.Agent.Jobs;
using Meeshkan.Agent.Scheduler;
using Meeshkan.Agent.Store;
using Meeshkan.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Meeshkan.Agent.Tests.Jobs;

/// <summary>The run loop and the application layer against a fake executor, on a real SQLite file: no process runs.</summary>
[TestFixture]
public sealed class RunLoopTests
{
    private string _folder = null!;
    private JobStore _store = null!;
    private RunLoopInbox _inbox = null!;
    private FakeExecutor _executor = null!;
    private JobLifecycle _lifecycle = null!;
    private JobScheduler? _scheduler;
    private Database _database = null!;
    private ConditionEngine _engine = null!;

    [SetUp]
    public void SetUp()
    {
        _folder = Directory.CreateTempSubdirectory("mk-loop-").FullName;
        _database = new Database(Path.Combine(_folder, "agent.db"));
        _database.Migrate();
        _store = new JobStore(_database, TimeProvider.System);
        _inbox = new RunLoopInbox();
        _executor = new FakeExecutor(_inbox);
        var config = new AgentConfig();
        var observers = new JobObservers([], NullLogger.Instance);
        var engine = _engine = new ConditionEngine(new ConditionStore(_database), new ScalarStore(_database), config, [], TimeProvider.System,
            NullLogger<ConditionEngine>.Instance);
        var options = new AgentOptions { Home = new MeeshkanHome(_folder) };
        var unsent = new Scalars.UnsentScalars(options, _store, new ScalarStore(_database), observers, TimeProvider.System,
            NullLogger<Scalars.UnsentScalars>.Instance);
        var output = new Meeshkan.Agent.OutputScalars.OutputScalarReader(
            new JobReports(new JobResolver(_store), new ScalarStore(_database), engine, observers, TimeProvider.System),
            new ScalarStore(_database), NullLogger<Meeshkan.Agent.OutputScalars.OutputScalarReader>.Instance);
        _lifecycle = new JobLifecycle(_store, options, config, _inbox, engine, unsent, output, observers, NullLogger<JobLifecycle>.Instance);
    }

    [TearDown]
    public async Task TearDown()
    {
        if (_scheduler is not null)
        {
            await _scheduler.StopAsync(CancellationToken.None);
            _scheduler.Dispose();
        }
        Directory.Delete(_folder, recursive: true);
    }

    private void StartLoop(int slots = 1)
    {
        var options = new AgentOptions { Home = new MeeshkanHome(_folder) };
        new AgentConfig { Slots = slots, Gpus = "none" }.Save(options.Home.ConfigPath);
        var queue = new QueueState(options, TimeProvider.System);
        _scheduler = new JobScheduler(_lifecycle, _inbox, [_executor], queue, new Meeshkan.Agent.Gpus.GpuWatcher(queue, _inbox, options), NullLogger<JobScheduler>.Instance);
        _scheduler.StartAsync(CancellationToken.None).GetAwaiter().GetResult();
    }

    private long[] Submit(int count) =>
        _lifecycle.Submit(Enumerable.Range(0, count).Select(i => new JobStore.NewJob($"j{i}", ["true"], _folder, null, 60)).ToList())
            .Select(j => j.Number).ToArray();

    private JobState StateOf(long number) => _store.GetByNumber(number)!.State;

    [Test]
    public void One_slot_runs_one_job_at_a_time_oldest_first()
    {
        StartLoop();
        var jobs = Submit(3);
        Wait.For(() => _executor.Started.Count == 1, "the first start");
        Thread.Sleep(200);
        Assert.That(_executor.Started, Is.EqualTo(new[] { jobs[0] }), "the others wait for the slot");
        Assert.That(StateOf(jobs[0]), Is.EqualTo(JobState.Running));

        _executor.Exit(jobs[0], 0);
        Wait.For(() => _executor.Started.Count == 2, "the second start");
        Wait.For(() => StateOf(jobs[0]) == JobState.Finished, "the first job's end");
        Assert.That(_executor.Started, Is.EqualTo(new[] { jobs[0], jobs[1] }));
        Assert.That(_store.GetByNumber(jobs[0])!.ExecutorReference, Is.EqualTo($"fake-{jobs[0]}"), "the executor's reference is recorded");
    }

    [Test]
    public void Two_slots_run_two_jobs_and_the_third_waits()
    {
        StartLoop(slots: 2);
        var jobs = Submit(3);
        Wait.For(() => _executor.Started.Count == 2, "two starts");
        Thread.Sleep(200);
        Assert.That(_executor.Started, Has.Count.EqualTo(2));

        _executor.Exit(jobs[1], 1);
        Wait.For(() => _executor.Started.Count == 3, "the third start");
        Wait.For(() => StateOf(jobs[1]) == JobState.Failed, "the second job's end");
        Assert.That(_store.GetByNumber(jobs[1])!.FailureReason, Is.EqualTo("exit status 1"));
        Assert.That(StateOf(jobs[0]), Is.EqualTo(JobState.Running));
    }

    [Test]
    public async Task A_canceled_running_job_stays_running_until_its_executor_reports_the_end()
    {
        StartLoop();
        var jobs = Submit(2);
        Wait.For(() => _executor.Started.Count == 1, "the first start");

        var cancel = _lifecycle.CancelAsync(_store.GetByNumber(jobs[0])!, TimeSpan.FromSeconds(5));
        Wait.For(() => _executor.Terminated.Contains(jobs[0]), "the executor asked to stop it");
        Thread.Sleep(200);
        Assert.That(cancel.IsCompleted, Is.False, "the cancel returns once the end is recorded");
        Assert.That(StateOf(jobs[0]), Is.EqualTo(JobState.Running), "its processes still run");
        Assert.That(_executor.Started, Has.Count.EqualTo(1), "the next job waits for the slot");

        _executor.Exit(jobs[0], 143);
        var canceled = await cancel.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.That(canceled.State, Is.EqualTo(JobState.Canceled));
        Assert.That(canceled.ExitCode, Is.EqualTo(143));
        Wait.For(() => _executor.Started.Count == 2, "the next start");
    }

    [Test]
    public async Task A_canceled_queued_job_never_starts()
    {
        StartLoop();
        var jobs = Submit(2);
        Wait.For(() => _executor.Started.Count == 1, "the first start");
        var canceled = await _lifecycle.CancelAsync(_store.GetByNumber(jobs[1])!);
        Assert.That(canceled.State, Is.EqualTo(JobState.Canceled));

        _executor.Exit(jobs[0], 0);
        Wait.For(() => StateOf(jobs[0]) == JobState.Finished, "the first job's end");
        Thread.Sleep(200);
        Assert.That(_executor.Started, Is.EqualTo(new[] { jobs[0] }));
    }

    [Test]
    public async Task A_job_canceled_while_its_executor_starts_it_is_stopped_once_started_not_left_running()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _executor.HoldStart = release.Task;
        StartLoop();
        var jobs = Submit(1);
        Wait.For(() => _executor.Started.Count == 1, "the executor starting it");

        var cancel = _lifecycle.CancelAsync(_store.GetByNumber(jobs[0])!, TimeSpan.FromSeconds(5));
        try
        {
            Thread.Sleep(200);
            Assert.That(cancel.IsCompleted, Is.False, "not called canceled while its process may be starting");
        }
        finally
        {
            release.TrySetResult();
        }
        Wait.For(() => _executor.Terminated.Contains(jobs[0]), "the executor asked to stop it once started");
        Assert.That(cancel.IsCompleted, Is.False, "not called canceled while its process runs");

        _executor.Exit(jobs[0], 143);
        var canceled = await cancel.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.That(canceled.State, Is.EqualTo(JobState.Canceled));
    }

    [Test]
    public void A_job_its_executor_cannot_start_fails_and_the_next_one_starts()
    {
        _executor.Refuse.Add(1);
        StartLoop();
        var jobs = Submit(2);
        Wait.For(() => _executor.Started.Count == 1, "the second job's start");
        Assert.That(StateOf(jobs[0]), Is.EqualTo(JobState.Failed));
        Assert.That(_store.GetByNumber(jobs[0])!.FailureReason, Is.EqualTo("could not start: no such program"));
        Assert.That(_executor.Started, Is.EqualTo(new[] { jobs[1] }));
    }

    [Test]
    public void The_end_time_is_the_one_the_executor_reports()
    {
        StartLoop();
        var jobs = Submit(1);
        Wait.For(() => _executor.Started.Count == 1 && StateOf(jobs[0]) == JobState.Running, "the start");
        Thread.Sleep(500);
        // Ended 0.4 s ago, while the run loop heard of it only now (an executor that polls, or an agent that was down).
        var endedAt = DateTimeOffset.UtcNow.AddMilliseconds(-400);
        _executor.Exit(jobs[0], 0, endedAt);
        Wait.For(() => StateOf(jobs[0]) == JobState.Finished, "the end");
        Assert.That(_store.GetByNumber(jobs[0])!.FinishedAt!.Value.ToUnixTimeMilliseconds(), Is.EqualTo(endedAt.ToUnixTimeMilliseconds()));
    }

    [Test]
    public void A_job_never_ends_before_it_started()
    {
        StartLoop();
        var jobs = Submit(1);
        Wait.For(() => _executor.Started.Count == 1 && StateOf(jobs[0]) == JobState.Running, "the start");
        _executor.Exit(jobs[0], 0, DateTimeOffset.UtcNow.AddSeconds(-30));
        Wait.For(() => StateOf(jobs[0]) == JobState.Finished, "the end");
        var job = _store.GetByNumber(jobs[0])!;
        Assert.That(job.FinishedAt, Is.GreaterThanOrEqualTo(job.StartedAt!.Value));
    }

    [Test]
    public void After_a_restart_the_loop_reattaches_to_a_running_job_which_keeps_its_slot()
    {
        var jobs = Submit(2);
        _store.MarkRunning(_store.GetByNumber(jobs[0])!, "local", "earlier-agent", null);
        StartLoop();
        Wait.For(() => _executor.Reattached.Contains(jobs[0]), "the re-attachment");
        Thread.Sleep(200);
        Assert.That(_executor.Started, Is.Empty, "the re-attached job holds the only slot");

        _executor.Exit(jobs[0], 0);
        Wait.For(() => _executor.Started.Count == 1, "the queued job's start");
        Assert.That(StateOf(jobs[0]), Is.EqualTo(JobState.Finished));
    }

    [Test]
    public void An_ended_job_s_conditions_are_no_longer_held_in_memory()
    {
        StartLoop();
        var jobs = Submit(1);
        Wait.For(() => StateOf(jobs[0]) == JobState.Running, "the start");
        _engine.Add(_store.GetByNumber(jobs[0])!, new Meeshkan.V1.AddConditionRequest { Expression = "loss > 1" });
        Assert.That(_engine.CachedJobs, Is.EqualTo(1));

        _executor.Exit(jobs[0], 0);
        Wait.For(() => StateOf(jobs[0]) == JobState.Finished, "the end");
        Wait.For(() => _engine.CachedJobs == 0, "the engine forgets the ended job");
    }

    [Test]
    public void The_executor_state_text_is_kept_with_the_job()
    {
        StartLoop();
        var jobs = Submit(1);
        Wait.For(() => _executor.Started.Count == 1, "the start");
        _inbox.StateChanged(jobs[0], "PENDING (Resources)");
        Wait.For(() => _store.GetByNumber(jobs[0])!.ExecutorState == "PENDING (Resources)", "the executor's state text");
    }

    /// <summary>Starts nothing: records what it was asked, and reports an end when the test says so.</summary>
    [Test]
    public void A_failed_dependency_fails_its_chain_in_order_and_none_of_it_starts()
    {
        StartLoop();
        var first = Submit(1)[0];
        var second = _lifecycle.Submit([new JobStore.NewJob("b", ["true"], _folder, null, 60) { After = [first] }])[0].Number;
        var third = _lifecycle.Submit([new JobStore.NewJob("c", ["true"], _folder, null, 60) { After = [second] }])[0].Number;
        var any = _lifecycle.Submit([new JobStore.NewJob("d", ["true"], _folder, null, 60) { AfterAny = [third] }])[0].Number;
        Wait.For(() => _executor.Started.Count == 1, "the first start");

        _executor.Exit(first, 2);

        Wait.For(() => StateOf(any) == JobState.Finished || _executor.Started.Contains(any), "the --after-any job to start");
        Assert.That(_store.GetByNumber(second)!.FailureReason, Is.EqualTo($"dependency {first} failed (exit status 2)"));
        Assert.That(_store.GetByNumber(third)!.FailureReason, Is.EqualTo($"dependency {second} failed (dependency {first} failed (exit status 2))"));
        Assert.That(_executor.Started, Is.EqualTo(new[] { first, any }), "the failed chain never started; the --after-any job did");
    }

    [Test]
    public void A_failed_attempt_with_a_retry_left_starts_again_and_the_job_stays_running_between()
    {
        StartLoop();
        var job = _lifecycle.Submit([new JobStore.NewJob("flaky", ["true"], _folder, null, 60) { Retries = 1 }])[0].Number;
        Wait.For(() => _executor.Started.Count == 1, "the first attempt");

        _executor.Exit(job, 1);
        Wait.For(() => _executor.Started.Count == 2, "the second attempt");
        var running = _store.GetByNumber(job)!;
        Assert.That((running.State, running.Attempt), Is.EqualTo((JobState.Running, 2)));
        Assert.That(_store.Attempts(job).Select(a => (a.Attempt, a.ExitCode)), Is.EqualTo(new[] { (1, (int?)1) }));

        _executor.Exit(job, 1);
        Wait.For(() => StateOf(job) == JobState.Failed, "the last attempt's end");
        Assert.That(_executor.Started, Has.Count.EqualTo(2), "no retry left");
        Assert.That(_store.Attempts(job), Has.Count.EqualTo(2));
    }

    [Test]
    public void A_timeout_stops_the_attempt_and_the_job_ends_timed_out()
    {
        StartLoop();
        var job = _lifecycle.Submit([new JobStore.NewJob("slow", ["true"], _folder, null, 60) { TimeoutSeconds = 1 }])[0].Number;
        Wait.For(() => _executor.Started.Count == 1, "the start");
        Thread.Sleep(300);
        Assert.That(_executor.Terminated, Is.Empty, "not before its time");

        Wait.For(() => _executor.Terminated.Contains(job), "the executor asked to stop it", 10);
        Assert.That(StateOf(job), Is.EqualTo(JobState.Running), "running until its processes are gone");
        _executor.Exit(job, 143);
        Wait.For(() => StateOf(job) == JobState.Failed, "its end");
        Assert.That(_store.GetByNumber(job)!.FailureReason, Is.EqualTo("timed out after 1s"));
    }

    private sealed class FakeExecutor(IExecutorEvents events) : IJobExecutor
    {
        public ConcurrentQueue<long> Started { get; } = new();
        public ConcurrentQueue<long> Terminated { get; } = new();
        public ConcurrentQueue<long> Reattached { get; } = new();
        public HashSet<long> Refuse { get; } = [];

        /// <summary>When set, a start takes until this completes (an executor slow to start, such as sbatch).</summary>
        public Task? HoldStart { get; set; }

        public string Name => "local";

        public async ValueTask<ExecutorStart> StartAsync(JobRecord job, CancellationToken cancel)
        {
            if (Refuse.Contains(job.Number))
            {
                throw new ExecutorStartException("no such program");
            }
            Started.Enqueue(job.Number);
            if (HoldStart is { } hold)
            {
                await hold.ConfigureAwait(false);
            }
            return new ExecutorStart($"fake-{job.Number}");
        }

        public void Reattach(JobRecord job, CancellationToken stopping) => Reattached.Enqueue(job.Number);

        public Task TerminateAsync(JobRecord job, TimeSpan grace)
        {
            Terminated.Enqueue(job.Number);
            return Task.CompletedTask;
        }

        public void Exit(long number, int code, DateTimeOffset? at = null) => events.Exited(new JobExit(number, code, at ?? DateTimeOffset.UtcNow));
    }
}
