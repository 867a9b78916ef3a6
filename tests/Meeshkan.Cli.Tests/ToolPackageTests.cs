using System.Diagnostics;
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
        var install = Process.Start(new ProcessStartInfo("dotnet",
            ["tool", "install", "meeshkan", "--tool-path", _toolPath, "--add-source", _packages, "--version", "0.1.0"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            // Its own package cache: a package of the same version installed before must not stand in for this one.
            Environment = { ["NUGET_PACKAGES"] = Path.Combine(_toolPath, ".packages") },
        })!;
        var output = install.StandardOutput.ReadToEndAsync();
        var errors = install.StandardError.ReadToEnd();
        Assert.That(install.WaitForExit(TimeSpan.FromMinutes(3)), Is.True, "dotnet tool install did not finish");
        Assert.That(install.ExitCode, Is.Zero, output.Result + errors);

        using var sandbox = new MeeshkanSandbox(Path.Combine(_toolPath, "meeshkan"));
        sandbox.Start();
        var number = sandbox.Submit("true");
        Assert.That(sandbox.WaitForEnd(number).State, Is.EqualTo("FINISHED"));
        Assert.That(sandbox.Ok("list"), Does.Contain("/usr/bin/true"), "the front answers list");
        Assert.That(sandbox.Ok("status"), Does.Contain("Meeshkan agent is running"), "core/meeshkan answers the rest");
    }
}
