namespace Meeshkan.Slurm.Tests.Cluster;

/// <summary>Starts the single-node Slurm once for every test in this namespace, and stops it after the last.</summary>
[SetUpFixture]
public sealed class SlurmSuite
{
    private static SlurmCluster? _cluster;

    public static SlurmCluster Cluster => _cluster ?? throw new InvalidOperationException("the Slurm cluster is not running");

    [OneTimeSetUp]
    public void StartCluster() => _cluster = SlurmCluster.Start();

    [OneTimeTearDown]
    public void StopCluster()
    {
        _cluster?.Dispose();
        _cluster = null;
    }
}
