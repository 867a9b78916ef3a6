using Meeshkan.Agent.Executors.Slurm;
using Meeshkan.V1;
using JobState = Meeshkan.Agent.JobState;

namespace Meeshkan.Slurm.Tests.Units;

public sealed class SlurmWatcherTests
{
    /// <summary>squeue and sacct answering from a table the test changes; every call counted.</summary>
    private sealed class FakeSlurm : ISlurmCommands
    {
        public Dictionary<long, string> Squeue { get; } = [];
        public Dictionary<long, string> Sacct { get; } = [];
        public string? Down { get; set; }
        public List<string> Calls { get; } = [];

        public Task<CommandResult> RunAsync(string program, IReadOnlyList<string> arguments,
            IEnumerable<KeyValuePair<string, string>>? environment = null, CancellationToken cancel = default)
        {
            Calls.Add(program);
            if (Down is { } error)
            {
                return Task.FromResult(new CommandResult(1, "", error));
            }
            var ids = arguments[arguments.ToList().IndexOf("-j") + 1].Split(',').Select(long.Parse).ToHashSet();
            var table = program == "squeue" ? Squeue : Sacct;
            return Task.FromResult(new CommandResult(0, string.Concat(table.Where(r => ids.Contains(r.Key)).Select(r => $"{r.Key}|{r.Value}\n")), ""));
        }
    }

    private sealed class Recorder : ISlurmWatcherEvents
    {
        public List<string> Seen { get; } = [];
        public List<SlurmEnd> Ends { get; } = [];

        public void StateChanged(long number, string state) => Seen.Add($"{number}: {state}");

        public void Ended(SlurmEnd end) => Ends.Add(end);

        public void ControllerAnswers(bool answers, string? error) => Seen.Add(answers ? "answers" : $"down: {error}");
    }

    private FakeSlurm _slurm = null!;
    private Recorder _events = null!;
    private SlurmWatcher _watcher = null!;
    private string _folder = "";

    [SetUp]
    public void Create()
    {
        (_slurm, _events) = (new FakeSlurm(), new Recorder());
        _watcher = new SlurmWatcher(new SlurmClient(_slurm), _events, TimeSpan.FromMilliseconds(10));
        _folder = Directory.CreateTempSubdirectory("mkw-").FullName;
    }

    [TearDown]
    public void Remove() => Directory.Delete(_folder, true);

    [Test]
    public async Task A_job_is_shown_pending_then_running_on_its_node_then_ends_with_its_true_exit_code()
    {
        _watcher.Watch(1, 101, _folder);
        _slurm.Squeue[101] = "PENDING|Resources||0||";
        await _watcher.PollOnceAsync();
        await _watcher.PollOnceAsync();
        _slurm.Squeue[101] = "RUNNING|None|node7|0||";
        await _watcher.PollOnceAsync();
        _slurm.Squeue[101] = "FAILED|NonZeroExitCode|node7|768|2026-12-03T12:58:43|";
        await _watcher.PollOnceAsync();
        await _watcher.PollOnceAsync();

        Assert.That(_events.Seen, Is.EqualTo(new[] { "1: Slurm 101 PENDING (Resources)", "1: Slurm 101 RUNNING on node7" }), "each change once");
        Assert.That(_events.Ends, Has.Count.EqualTo(1));
        Assert.That(_events.Ends[0] with { EndedAt = default }, Is.EqualTo(new SlurmEnd(1, JobState.Failed, 3, "exit status 3 (Slurm 101: FAILED, NonZeroExitCode)", default)));
        Assert.That(_events.Ends[0].EndedAt.LocalDateTime, Is.EqualTo(new DateTime(2026, 12, 3, 12, 58, 43)));
        Assert.That(_watcher.Count, Is.Zero);
        Assert.That(_slurm.Calls, Is.EqualTo(new[] { "squeue", "squeue", "squeue", "squeue" }), "no call once nothing is watched");
    }

    [Test]
    public async Task Five_hundred_jobs_one_squeue_call_a_poll()
    {
        for (var i = 1; i <= 500; i++)
        {
            _watcher.Watch(i, 1000 + i, _folder);
            _slurm.Squeue[1000 + i] = "RUNNING|None|vm|0||";
        }
        await _watcher.PollOnceAsync();
        await _watcher.PollOnceAsync();
        Assert.That(_slurm.Calls, Is.EqualTo(new[] { "squeue", "squeue" }));
        Assert.That(_watcher.Polls, Is.EqualTo(2));
    }

    [Test]
    public async Task While_slurmctld_is_down_states_are_kept_and_refreshed_when_it_is_back()
    {
        _watcher.Watch(1, 101, _folder);
        _slurm.Squeue[101] = "RUNNING|None|vm|0||";
        await _watcher.PollOnceAsync();
        _slurm.Down = "slurm_load_jobs error: Unable to contact slurm controller (connect failure)";
        await _watcher.PollOnceAsync();
        await _watcher.PollOnceAsync();
        Assert.That(_watcher.Answers, Is.False);
        Assert.That(_events.Ends, Is.Empty);
        _slurm.Down = null;
        _slurm.Squeue[101] = "COMPLETED|None|vm|0|2026-12-03T12:58:43|";
        await _watcher.PollOnceAsync();

        Assert.That(_events.Seen, Is.EqualTo(new[]
        {
            "1: Slurm 101 RUNNING on vm", "down: squeue: Unable to contact slurm controller (connect failure)", "answers",
        }));
        Assert.That(_events.Ends.Single().State, Is.EqualTo(JobState.Finished));
    }

    [Test]
    public async Task A_job_squeue_forgot_is_found_by_sacct()
    {
        _watcher.Watch(1, 101, _folder);
        _slurm.Sacct[101] = "TIMEOUT|0:0|vm||2026-12-03T12:58:43";
        await _watcher.PollOnceAsync();

        Assert.That(_events.Ends.Single().Reason, Is.EqualTo("time limit reached (Slurm 101: TIMEOUT)"));
    }

    [Test]
    public async Task A_job_slurm_forgot_entirely_ends_with_the_exit_status_its_script_recorded()
    {
        _watcher.Watch(1, 101, _folder);
        File.WriteAllText(Path.Combine(_folder, "exit_code"), "4\n");
        await _watcher.PollOnceAsync();
        Assert.That(_events.Ends, Is.Empty, "one miss is not enough");
        await _watcher.PollOnceAsync();

        Assert.That(_events.Ends.Single() with { EndedAt = default },
            Is.EqualTo(new SlurmEnd(1, JobState.Failed, 4, "exit status 4 (Slurm 101 no longer known; the status its script recorded)", default)));
    }

    [Test]
    public async Task A_job_slurm_forgot_without_a_recorded_status_fails_saying_so()
    {
        _watcher.Watch(1, 101, _folder);
        await _watcher.PollOnceAsync();
        await _watcher.PollOnceAsync();

        Assert.That(_events.Ends.Single().Reason, Does.StartWith("Slurm no longer knows job 101 and keeps no accounting"));
        Assert.That(_events.Ends.Single().ExitCode, Is.Null);
    }

    [Test]
    public async Task The_loop_polls_at_once_when_a_job_is_watched_and_stays_idle_without_jobs()
    {
        using var stop = new CancellationTokenSource();
        var loop = _watcher.RunAsync(stop.Token);
        await Task.Delay(100);
        Assert.That(_slurm.Calls, Is.Empty);
        _slurm.Squeue[101] = "COMPLETED|None|vm|0|2026-12-03T12:58:43|";
        _watcher.Watch(1, 101, _folder);
        for (var i = 0; i < 100 && _events.Ends.Count == 0; i++)
        {
            await Task.Delay(20);
        }
        await stop.CancelAsync();
        Assert.That(async () => await loop, Throws.InstanceOf<OperationCanceledException>());
        Assert.That(_events.Ends, Has.Count.EqualTo(1));
    }
}
