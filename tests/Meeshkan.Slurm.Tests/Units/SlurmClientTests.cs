using Meeshkan.Agent.Executors.Slurm;

namespace Meeshkan.Slurm.Tests.Units;

/// <summary>The batching and fallbacks of <see cref="SlurmClient"/>, against scripted answers (the real cluster: Cluster/).</summary>
public sealed class SlurmClientTests
{
    private sealed class Scripted(Func<string, IReadOnlyList<string>, CommandResult> answer) : ISlurmCommands
    {
        public List<string> Calls { get; } = [];

        public Task<CommandResult> RunAsync(string program, IReadOnlyList<string> arguments,
            IEnumerable<KeyValuePair<string, string>>? environment = null, CancellationToken cancel = default)
        {
            Calls.Add(program + " " + string.Join(' ', arguments));
            return Task.FromResult(answer(program, arguments));
        }
    }

    private static readonly CommandResult Ok = new(0, "", "");

    [Test]
    public async Task Five_hundred_jobs_cost_one_squeue_call()
    {
        var ids = Enumerable.Range(1, 500).Select(i => (long)i).ToList();
        var commands = new Scripted((program, _) =>
            new CommandResult(0, string.Concat(ids.Select(i => $"{i}|RUNNING|None|vm|0|\n")), ""));

        var poll = await new SlurmClient(commands).PollAsync(ids);

        Assert.That(commands.Calls, Has.Count.EqualTo(1));
        Assert.That(commands.Calls[0], Does.StartWith("squeue -h -t all -j 1,2,3,"));
        Assert.That(poll.Jobs, Has.Count.EqualTo(500));
        Assert.That(poll.Reachable, Is.True);
    }

    [Test]
    public async Task Jobs_squeue_forgot_are_looked_up_in_one_sacct_call_falling_back_to_the_job_completion_file()
    {
        var commands = new Scripted((program, args) => (program, args.Contains("-c")) switch
        {
            ("squeue", _) => new CommandResult(0, "1|RUNNING|None|vm|0|\n", ""),
            ("sacct", false) => new CommandResult(1, "", "sacct: error: Slurm accounting storage is disabled\n"),
            ("sacct", true) => new CommandResult(0, "2|COMPLETED|0:0|vm|\n3|FAILED|3:0|vm|\n", ""),
            _ => Ok,
        });
        var client = new SlurmClient(commands);

        var poll = await client.PollAsync([1, 2, 3, 4]);

        Assert.That(commands.Calls, Is.EqualTo(new[]
        {
            "squeue -h -t all -j 1,2,3,4 -O JobID:|,State:|,Reason:|,NodeList:|,exit_code:|,EndTime:|",
            "sacct -n -X --parsable2 -j 2,3,4 -o JobID,State,ExitCode,NodeList,Reason,End",
            "sacct -c -n -X --parsable2 -j 2,3,4 -o JobID,State,ExitCode,NodeList,Reason,End",
        }));
        Assert.That(poll.Jobs.Keys, Is.EquivalentTo(new long[] { 1, 2, 3 }));
        Assert.That(poll.Jobs[3].ExitCode, Is.EqualTo(3));
        Assert.That(client.AccountingSource, Is.EqualTo("sacct -c"));

        // The one that worked is asked first from then on.
        commands.Calls.Clear();
        await client.PollAsync([1, 2]);
        Assert.That(commands.Calls, Has.Count.EqualTo(2));
        Assert.That(commands.Calls[1], Does.StartWith("sacct -c "));
    }

    [Test]
    public async Task A_controller_that_does_not_answer_keeps_every_state()
    {
        var commands = new Scripted((_, _) => new CommandResult(1, "", "slurm_load_jobs error: Unable to contact slurm controller (connect failure)\n"));

        var poll = await new SlurmClient(commands).PollAsync([1, 2]);

        Assert.That(poll.Reachable, Is.False);
        Assert.That(poll.Error, Is.EqualTo("squeue: Unable to contact slurm controller (connect failure)"));
        Assert.That(commands.Calls, Has.Count.EqualTo(1));
    }

    [Test]
    public async Task An_id_slurm_no_longer_knows_is_not_an_outage()
    {
        var commands = new Scripted((program, _) => program == "squeue"
            ? new CommandResult(1, "", "slurm_load_jobs error: Invalid job id specified\n")
            : new CommandResult(0, "9|TIMEOUT|0:0|vm|\n", ""));

        var poll = await new SlurmClient(commands).PollAsync([9]);

        Assert.That(poll.Reachable, Is.True);
        Assert.That(poll.Jobs[9].State, Is.EqualTo("TIMEOUT"));
    }

    [Test]
    public async Task Sbatch_refusals_pass_slurms_message_on()
    {
        var commands = new Scripted((_, _) => new CommandResult(1, "", "sbatch: error: Batch job submission failed: Invalid partition name specified\n"));
        var submission = SbatchSubmission.For(1, "x", ["true"], "/", "/tmp/x", new SlurmResources { Partition = "nope" });

        var error = Assert.ThrowsAsync<SlurmException>(() => new SlurmClient(commands).SubmitAsync(submission));

        Assert.That(error!.Message, Is.EqualTo("sbatch: Batch job submission failed: Invalid partition name specified"));
        Assert.That(error.Unreachable, Is.False);
    }

    [Test]
    public async Task Sbatch_without_a_controller_is_unreachable_not_refused()
    {
        var commands = new Scripted((_, _) => new CommandResult(1, "", "sbatch: error: Batch job submission failed: Unable to contact slurm controller (connect failure)\n"));
        var submission = SbatchSubmission.For(1, "x", ["true"], "/", "/tmp/x", new SlurmResources());

        var error = Assert.ThrowsAsync<SlurmException>(() => new SlurmClient(commands).SubmitAsync(submission));

        Assert.That(error!.Unreachable, Is.True);
        await Task.CompletedTask;
    }

    [Test]
    public async Task A_missing_sbatch_says_what_to_install()
    {
        var error = Assert.ThrowsAsync<SlurmException>(() => new SlurmClient(new SlurmCommands("/nonexistent"))
            .SubmitAsync(SbatchSubmission.For(1, "x", ["true"], "/", "/tmp/x", new SlurmResources())));

        Assert.That(error!.Message, Does.StartWith("sbatch: cannot run sbatch").And.Contains("is Slurm's client installed"));
        await Task.CompletedTask;
    }
}
