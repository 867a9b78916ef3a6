using Meeshkan.Testing;

namespace Meeshkan.Cli.Tests;

/// <summary>
/// clients/python as a real package: pip-installed offline into a fresh virtual environment (Debian's Python with
/// --system-site-packages, for its grpcio), then used from that venv as a user would: `python -m meeshkan`.
/// </summary>
[TestFixture]
public sealed class PythonPackageTests() : SandboxFixture(AgentPer.Test)
{
    private string _venv = null!;

    private string VenvPython => Path.Combine(_venv, "bin", "python");

    [OneTimeSetUp]
    public void InstallIntoAFreshVenv()
    {
        _venv = Directory.CreateTempSubdirectory("mk-venv-").FullName;
        Must(MeeshkanSandbox.RunProgram("/usr/bin/python3", ["-m", "venv", "--system-site-packages", _venv], _venv, null, TimeSpan.FromMinutes(2)));
        Must(MeeshkanSandbox.RunProgram(Path.Combine(_venv, "bin", "pip"),
            ["install", "--no-index", "--no-build-isolation", "--quiet", Path.Combine(MeeshkanSandbox.RepoRoot, "clients", "python")],
            _venv, new Dictionary<string, string> { ["PIP_DISABLE_PIP_VERSION_CHECK"] = "1" }, TimeSpan.FromMinutes(3)));
    }

    [OneTimeTearDown]
    public void RemoveVenv() => Directory.Delete(_venv, recursive: true);

    [Test]
    public void The_installed_package_is_the_venvs_own_with_the_agents_version()
    {
        var result = InVenv("-c", "import meeshkan, sys; print(meeshkan.__file__); print(meeshkan.__version__)");
        Must(result);
        var lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines[0], Does.StartWith(Path.Combine(_venv, "lib")).And.Contain("site-packages"), "imported from the venv, not the checkout");
        Assert.That(Sandbox.Ok("--version").Trim(), Does.Contain(lines[1]), "package version = agent version");
        var metadata = InVenv("-c", "import importlib.metadata as m; print(m.version('meeshkan')); print(m.requires('meeshkan'))");
        Assert.That(metadata.Stdout, Does.Contain(lines[1]).And.Contain("grpcio").And.Contain(">=1.30").And.Contain("protobuf").And.Contain(">=3.20"), metadata.ToString());
    }

    [Test]
    public void A_plain_pip_install_with_build_isolation_needs_nothing_from_an_index()
    {
        // What a user types, in a venv of its own; --no-index stands for this offline machine: the isolated build
        // environment gets nothing, so the build backend must need nothing (build_backend/meeshkan_build.py).
        var venv = Directory.CreateTempSubdirectory("mk-venv-plain-").FullName;
        try
        {
            Must(MeeshkanSandbox.RunProgram("/usr/bin/python3", ["-m", "venv", "--system-site-packages", venv], venv, null, TimeSpan.FromMinutes(2)));
            Must(MeeshkanSandbox.RunProgram(Path.Combine(venv, "bin", "pip"), ["install", "--no-index", "--quiet", Path.Combine(MeeshkanSandbox.RepoRoot, "clients", "python")],
                venv, new Dictionary<string, string> { ["PIP_DISABLE_PIP_VERSION_CHECK"] = "1" }, TimeSpan.FromMinutes(3)));
            var imported = MeeshkanSandbox.RunProgram(Path.Combine(venv, "bin", "python"), ["-c", "import meeshkan, meeshkan.v1.jobs_pb2; print(meeshkan.__file__)"],
                venv, new Dictionary<string, string> { ["PYTHONPATH"] = "" }, TimeSpan.FromSeconds(60));
            Must(imported);
            Assert.That(imported.Stdout, Does.StartWith(Path.Combine(venv, "lib")));
        }
        finally
        {
            Directory.Delete(venv, recursive: true);
        }
    }

    [Test]
    public void Python_m_meeshkan_submits_a_job_that_runs_with_the_venvs_interpreter_and_reports()
    {
        Sandbox.WriteFile("train.py", """
            import sys
            import meeshkan
            print("interpreter", sys.executable, sys.prefix)
            for step in range(300):
                meeshkan.report_scalar("loss", 1.0 / (step + 1))
            """);
        var submitted = InVenv("-m", "meeshkan", "submit", "--name", "from-venv", "train.py");
        Must(submitted);
        var number = long.Parse(submitted.Stdout.Split(' ')[1].TrimEnd(':'), System.Globalization.CultureInfo.InvariantCulture);
        var job = Sandbox.WaitForEnd(number);
        var logs = Sandbox.Run("logs", number.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.That(job.State, Is.EqualTo("FINISHED"), logs.ToString());
        Assert.That(logs.Stdout, Does.Contain($"interpreter {VenvPython} {_venv}"), "the job ran in the venv it was submitted from");
        Assert.That(Sandbox.Scalars(number)["loss"], Is.EqualTo((Value: 1.0 / 300, Step: 299L, Count: 300L)));
        Assert.That(Sandbox.Ok("list").Trim(), Does.Contain("from-venv"), "python -m meeshkan list runs the CLI too");
    }

    [Test]
    public void Python_m_meeshkan_without_the_cli_says_what_to_do()
    {
        var result = MeeshkanSandbox.RunProgram(VenvPython, ["-m", "meeshkan", "list"], Sandbox.WorkDir,
            new Dictionary<string, string> { ["PATH"] = "/usr/bin:/bin", ["MEESHKAN_CLI"] = "" }, TimeSpan.FromSeconds(30));
        Assert.That(result.ExitCode, Is.EqualTo(1));
        Assert.That(result.Stderr.Trim(), Is.EqualTo("meeshkan: cannot find the meeshkan command: put it on PATH or set MEESHKAN_CLI"));
    }

    /// <summary>The venv's python, as the user, with the sandbox's agent and the `meeshkan` under test as the CLI.</summary>
    private CliResult InVenv(params string[] args) => MeeshkanSandbox.RunProgram(VenvPython, args, Sandbox.WorkDir,
        new Dictionary<string, string>
        {
            ["MEESHKAN_HOME"] = Sandbox.Home,
            ["MEESHKAN_CLI"] = MeeshkanSandbox.Executable,
            ["MEESHKAN_PYTHON"] = "",
            ["PYTHONPATH"] = "",
        }, TimeSpan.FromSeconds(60));

    private static void Must(CliResult result) => Assert.That(result.ExitCode, Is.Zero, result.ToString());
}
