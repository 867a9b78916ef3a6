using System.Formats.Tar;
using System.IO.Compression;
using Meeshkan.Testing;

namespace Meeshkan.Cli.Tests;

[TestFixture]
public sealed class DiagnosticsTests
{
    [Test]
    public void Sorry_writes_a_bundle_with_the_agent_log_versions_and_the_config_masked()
    {
        using var sandbox = new MeeshkanSandbox();
        sandbox.Ok("setup", "--python", "/usr/bin/python3", "--slack-webhook", "https://hooks.slack.com/services/T0/B0/SECRETPART");
        sandbox.Start();
        var result = sandbox.Run("sorry");
        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        var path = result.Stdout.Trim();
        Assert.That(Path.GetDirectoryName(path), Is.EqualTo(sandbox.WorkDir));

        var entries = new Dictionary<string, string>();
        using (var gzip = new GZipStream(File.OpenRead(path), CompressionMode.Decompress))
        using (var tar = new TarReader(gzip))
        {
            while (tar.GetNextEntry() is { } entry)
            {
                entries[entry.Name] = new StreamReader(entry.DataStream!).ReadToEnd();
            }
        }
        Assert.That(entries.Keys, Is.SupersetOf(new[] { "versions.txt", "agent.log", "config.masked.json" }));
        Assert.That(entries["versions.txt"], Does.Contain("meeshkan 0.1.0"));
        Assert.That(entries["config.masked.json"], Does.Contain("/usr/bin/python3"));
        Assert.That(entries.Values, Has.None.Contains("SECRETPART"), "no secret in the bundle");
    }

    [Test]
    public void Submitting_to_a_python_without_grpc_warns_and_the_script_still_runs()
    {
        using var sandbox = new MeeshkanSandbox();
        sandbox.Start();
        // -S leaves site-packages (and so grpc) out: an interpreter that cannot import grpc.
        var bare = sandbox.WriteFile("bare-python", "#!/bin/sh\nexec /usr/bin/python3 -S \"$@\"\n", executable: true);
        sandbox.WriteFile("plain.py", "import meeshkan\nmeeshkan.report_scalar('loss', 1.0)\nprint('still ran')\n");
        var submitted = sandbox.Run("submit", "--python", bare, "plain.py");
        Assert.That(submitted.ExitCode, Is.Zero, submitted.ToString());
        Assert.That(submitted.Stderr, Does.Contain("cannot import grpc").And.Contain("python3-grpcio"));
        var job = sandbox.WaitForEnd(1);
        var logs = sandbox.Run("logs", "1");
        Assert.That(job.State, Is.EqualTo("FINISHED"), logs.ToString());
        Assert.That(logs.Stdout, Does.Contain("still ran"));
        Assert.That(logs.Stderr, Does.Contain("grpc"), "one warning in the job's stderr");
    }
}
