using System.IO.Compression;
using Meeshkan.Testing;

namespace Meeshkan.Cli.Tests;

/// <summary>
/// `./build.sh --target=Install`: the tool package installs a `meeshkan` that works, the small front and the complete
/// CLI in core/ both (the build's Test target packs before it tests and says where, in MEESHKAN_PACKAGES).
/// </summary>
[TestFixture]
public sealed class ToolPackageTests
{
    private string _packages = null!;
    private string _toolPath = null!;

    [OneTimeSetUp]
    public void FindPackages()
    {
        _packages = Environment.GetEnvironmentVariable("MEESHKAN_PACKAGES") ?? "";
        if (_packages.Length == 0)
        {
            Assert.Ignore("MEESHKAN_PACKAGES is not set: run through ./build.sh --target=Test, which packs the tool first");
        }
        _toolPath = Directory.CreateTempSubdirectory("mkt-").FullName;
    }

    [OneTimeTearDown]
    public void RemoveTool()
    {
        if (_toolPath is not null && Directory.Exists(_toolPath))
        {
            Directory.Delete(_toolPath, recursive: true);
        }
    }

    [Test]
    public void The_installed_tool_runs_the_quick_commands_and_the_complete_cli()
    {
        var package = Directory.GetFiles(_packages, "Meeshkan.linux-x64.*.nupkg").Single();
        using (var zip = ZipFile.OpenRead(package))
        {
            var names = zip.Entries.Select(e => e.FullName).ToList();
            Assert.That(names, Does.Contain("tools/any/linux-x64/meeshkan"));
            Assert.That(names, Does.Contain("tools/any/linux-x64/core/meeshkan"));
        }
        // Its own package cache: a package of the same version installed before must not stand in for this one.
        var install = MeeshkanSandbox.RunProgram("dotnet",
            ["tool", "install", "meeshkan", "--tool-path", _toolPath, "--add-source", _packages, "--version", "0.1.0"],
            _toolPath, new Dictionary<string, string> { ["NUGET_PACKAGES"] = Path.Combine(_toolPath, ".packages") }, TimeSpan.FromMinutes(3));
        Assert.That(install.ExitCode, Is.Zero, install.ToString());

        using var sandbox = new MeeshkanSandbox(Path.Combine(_toolPath, "meeshkan"));
        sandbox.Start();
        var number = sandbox.Submit("true");
        Assert.That(sandbox.WaitForEnd(number).State, Is.EqualTo("FINISHED"));
        Assert.That(sandbox.Ok("list"), Does.Contain("/usr/bin/true"), "the front answers list");
        Assert.That(sandbox.Ok("status"), Does.Contain("Meeshkan agent is running"), "core/meeshkan answers the rest");
    }
}
