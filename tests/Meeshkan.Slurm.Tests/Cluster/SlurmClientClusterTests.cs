using System.Diagnostics;
using Meeshkan.Agent.Executors.Slurm;
using Meeshkan.V1;
using JobState = Meeshkan.Agent.JobState;

namespace Meeshkan.Slurm.Tests.Cluster;

/// <summary><see cref="SlurmClient"/> against the real single-node Slurm: what sbatch, squeue and scancel really print.</summary>
public sealed class SlurmClientClusterTests
{
    private static SlurmClient Client() =>
        new(new SlurmCommands(), System.Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
            .ToDictionary(e => (string)e.Key, e => (string?)e.Value ?? "").Concat(SlurmSuite.Cluster.Environment));

    private static async Task<long> Submit(SlurmClient client, string name, string[] command, SlurmResources? resources = null)
    {
        var folder = Path.Combine(SlurmSuite.Cluster.Root, "client-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(folder);
        var submission = SbatchSubmission.For(1, name, command, folder, folder, resources ?? new SlurmResources());
        await File.WriteAllTextAsync(Path.Combine(folder, SbatchSubmission.ScriptFile), submission.Script);
        return await client.SubmitAsync(submission);
    }

    private static async Task<SlurmJobStatus> WaitFor(SlurmClient client, long id, Func<SlurmJobStatus, bool> done)
    {
        var clock = Stopwatch.StartNew();
        SlurmJobStatus? last = null;
        while (clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            var poll = await client.PollAsync([id]);
            if (poll.Jobs.TryGetValue(id, out last) && done(last))
            {
                return last;
            }
            await Task.Delay(200);
        }
        throw new TimeoutException($"Slurm job {id}: last seen {last}");
    }

    [Test]
    public async Task A_failing_job_ends_failed_with_its_true_exit_code()
    {
        var client = Client();
        var id = await Submit(client, "exit3", ["/bin/sh", "-c", "exit 3"]);

        var status = await WaitFor(client, id, s => s.IsEnded);

        Assert.That(status.Outcome(), Is.EqualTo((JobState.Failed, (int?)3, $"exit status 3 (Slurm {id}: FAILED, NonZeroExitCode)")));
    }

    [Test]
    public async Task A_canceled_job_shows_running_on_its_node_then_cancelled()
    {
        var client = Client();
        var id = await Submit(client, "sleeper", ["sleep", "60"]);
        var running = await WaitFor(client, id, s => s.State == "RUNNING");
        Assert.That(running.Describe(), Does.Match($"^Slurm {id} RUNNING on \\S+$"));

        await client.CancelAsync([id]);

        Assert.That((await WaitFor(client, id, s => s.IsEnded)).Outcome().State, Is.EqualTo(JobState.Canceled));
    }

    [Test]
    public void An_unknown_partition_is_slurms_own_message()
    {
        var client = Client();
        var error = Assert.ThrowsAsync<SlurmException>(() => Submit(client, "x", ["true"], new SlurmResources { Partition = "nosuchpartition" }));
        Assert.That(error!.Message, Is.EqualTo("sbatch: invalid partition specified: nosuchpartition"));
        Assert.That(error.Unreachable, Is.False);
    }

    [Test]
    public void Gpus_the_cluster_lacks_are_refused_with_slurms_message()
    {
        var client = Client();
        var error = Assert.ThrowsAsync<SlurmException>(() => Submit(client, "x", ["true"], new SlurmResources { Gpus = 1 }));
        Assert.That(error!.Message, Does.Contain("Invalid generic resource"));
    }
}
