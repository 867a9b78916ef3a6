using System.Diagnostics;

namespace Meeshkan.Slurm.Tests.Cluster;

/// <summary>The test kit itself: the single-node Slurm the other tests use runs jobs and records how they ended.</summary>
public sealed class ClusterKitTests
{
    [Test]
    public void A_batch_job_runs_and_its_end_is_in_the_job_completion_file()
    {
        var cluster = SlurmSuite.Cluster;
        var output = Path.Combine(cluster.Root, "kit-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(output);
        var submitted = cluster.Client("sbatch", "--parsable", "--output", Path.Combine(output, "out"), "--wrap", "echo kit; exit 3");
        Assert.That(submitted.ExitCode, Is.EqualTo(0), submitted.ToString());
        var id = submitted.Stdout.Trim();

        var clock = Stopwatch.StartNew();
        var line = "";
        while (clock.Elapsed < TimeSpan.FromSeconds(30) && line.Length == 0)
        {
            line = cluster.Client("sacct", "-c", "-n", "--parsable2", "-j", id, "-o", "JobID,State,ExitCode").Stdout.Trim();
            Thread.Sleep(200);
        }
        Assert.That(line, Is.EqualTo($"{id}|FAILED|3:0"));
        Assert.That(File.ReadAllText(Path.Combine(output, "out")), Is.EqualTo("kit\n"));
        Assert.That(cluster.NodeState, Is.EqualTo("idle").Or.EqualTo("completing"));
    }
}
