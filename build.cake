// Meeshkan's build: ./build.sh --target=<Target>. Targets: Build, Publish, Stubs, Test, Pack, Install, Demo, Bench.
using System.Xml.Linq;

var target = Argument("target", "Build");
var configuration = Argument("configuration", "Release");
var testFilter = Argument("filter", "");
var root = MakeAbsolute(Directory("."));
var artifacts = root.Combine("artifacts");
var python = "/usr/bin/python3"; // Debian's Python: the one with grpcio (see README).
var rid = System.Runtime.InteropServices.RuntimeInformation.OSArchitecture == System.Runtime.InteropServices.Architecture.Arm64
    ? "linux-arm64" : "linux-x64";
// The `meeshkan` users install: one native executable (Native AOT). Tests, the demo and the benchmarks run this one.
var native = artifacts.Combine("meeshkan");
var meeshkan = native.CombineWithFilePath("meeshkan");

Task("Build")
    .Description("Builds the solution.")
    .Does(() =>
{
    DotNetBuild("Meeshkan.sln", new DotNetBuildSettings { Configuration = configuration, NoLogo = true });
});

Task("Publish")
    .Description("Publishes `meeshkan` as the native executable users install (Native AOT) to artifacts/meeshkan.")
    .IsDependentOn("Build")
    .Does(() =>
{
    // The small `meeshkan` (src/Meeshkan.Front); its publish puts the complete CLI in core/ next to it.
    DotNetPublish("src/Meeshkan.Front/Meeshkan.Front.csproj", new DotNetPublishSettings
    {
        Configuration = configuration,
        Runtime = rid,
        OutputDirectory = native,
        NoLogo = true,
    });
});

Task("Stubs")
    .Description("Regenerates the checked-in Python stubs from protos/ with Debian's protoc.")
    .Does(() =>
{
    Run("bash", "clients/python/generate_stubs.sh");
});

Task("Test")
    .Description("Runs every test suite (NUnit and pytest) against the native `meeshkan` and prints `N passed, N failed`.")
    .IsDependentOn("Publish")
    .IsDependentOn("Pack")
    .Does(() =>
{
    var results = artifacts.Combine("test-results");
    CleanDirectory(results);
    var failures = new List<string>();
    foreach (var project in GetFiles("tests/**/*.Tests.csproj"))
    {
        var name = project.GetFilenameWithoutExtension().ToString();
        try
        {
            DotNetTest(project.FullPath, new DotNetTestSettings
            {
                Configuration = configuration,
                NoBuild = true,
                NoLogo = true,
                Filter = string.IsNullOrEmpty(testFilter) ? null : testFilter,
                Loggers = new[] { $"trx;LogFileName={results}/{name}.trx", "console;verbosity=normal" },
                EnvironmentVariables = new Dictionary<string, string>
                {
                    ["MEESHKAN_EXE"] = meeshkan.FullPath,
                    ["MEESHKAN_PACKAGES"] = artifacts.Combine("packages").FullPath,
                },
            });
        }
        catch (Exception e)
        {
            failures.Add($"{name}: {e.Message}");
        }
    }
    var pytest = StartProcess(python, new ProcessSettings
    {
        Arguments = $"-m pytest clients/python/tests -q --junitxml={results}/python.xml",
        WorkingDirectory = root,
    });
    if (pytest != 0 && pytest != 5)
    {
        failures.Add($"pytest exited {pytest}");
    }

    int passed = 0, failed = 0, skipped = 0;
    foreach (var trx in GetFiles($"{results}/*.trx"))
    {
        var counters = XDocument.Load(trx.FullPath).Descendants().First(e => e.Name.LocalName == "Counters");
        passed += (int)counters.Attribute("passed");
        failed += (int)counters.Attribute("failed") + (int)counters.Attribute("error") + (int)counters.Attribute("timeout") + (int)counters.Attribute("aborted");
        skipped += (int)counters.Attribute("notExecuted");
    }
    foreach (var junit in GetFiles($"{results}/*.xml"))
    {
        foreach (var suite in XDocument.Load(junit.FullPath).Descendants("testsuite"))
        {
            var tests = (int)suite.Attribute("tests");
            var bad = (int)suite.Attribute("failures") + (int)suite.Attribute("errors");
            var skip = (int)suite.Attribute("skipped");
            passed += tests - bad - skip;
            failed += bad;
            skipped += skip;
        }
    }
    // Plain text, alone on its line: CI reads it.
    Console.WriteLine();
    Console.WriteLine($"{passed} passed, {failed} failed, {skipped} skipped");
    if (failed > 0 || failures.Count > 0)
    {
        throw new Exception("tests failed: " + string.Join("; ", failures));
    }
});

Task("Pack")
    .Description("Makes the NuGet packages (the `meeshkan` tool, the C# SDK, the contracts) in artifacts/packages.")
    .Does(() =>
{
    CleanDirectory(artifacts.Combine("packages"));
    foreach (var project in GetFiles("src/**/*.csproj").Concat(GetFiles("clients/dotnet/**/*.csproj")))
    {
        DotNetPack(project.FullPath, new DotNetPackSettings
        {
            Configuration = configuration,
            OutputDirectory = artifacts.Combine("packages"),
            NoLogo = true,
        });
    }
    // The tool is native: the package above points `dotnet tool install` at this machine's RID package (Meeshkan.RID).
    DotNetPack("src/Meeshkan.Front/Meeshkan.Front.csproj", new DotNetPackSettings
    {
        Configuration = configuration,
        Runtime = rid,
        OutputDirectory = artifacts.Combine("packages"),
        NoLogo = true,
    });
});

Task("Install")
    .Description("Installs `meeshkan` as a global .NET tool from the local packages.")
    .IsDependentOn("Pack")
    .Does(() =>
{
    StartProcess("dotnet", "tool uninstall --global meeshkan");
    Run("dotnet", $"tool install --global meeshkan --add-source {artifacts.Combine("packages")} --version 0.1.0");
    Information("Installed. Make sure ~/.dotnet/tools is on your PATH: export PATH=\"$PATH:$HOME/.dotnet/tools\"");
});

Task("Demo")
    .Description("The quick start, end to end: start the agent, submit examples/report.py with -r 10, list, logs, report, stop.")
    .IsDependentOn("Publish")
    .Does(() =>
{
    var home = EnvironmentVariable("MEESHKAN_HOME");
    if (string.IsNullOrEmpty(home))
    {
        // The demo's own folder, fresh each run so that its job is job 1.
        home = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "meeshkan-demo");
        var demoEnv = new Dictionary<string, string> { ["MEESHKAN_HOME"] = home };
        StartProcess(meeshkan.FullPath, new ProcessSettings { Arguments = "stop --cancel-jobs", EnvironmentVariables = demoEnv, Silent = true });
        if (DirectoryExists(home)) DeleteDirectory(home, new DeleteDirectorySettings { Recursive = true, Force = true });
    }
    Information($"Data folder: {home}");
    var env = new Dictionary<string, string> { ["MEESHKAN_HOME"] = home, ["MEESHKAN_PYTHON"] = python };
    void Meeshkan(string args) => Run(meeshkan.FullPath, args, env);
    Meeshkan("start");
    try
    {
        Meeshkan("submit --name report-example --report-interval 10 examples/report.py");
        Meeshkan("list");
        Meeshkan("logs -f report-example");
        Meeshkan("list");
        Meeshkan("report report-example");
    }
    finally
    {
        Meeshkan("stop");
    }
});

Task("Bench")
    .Description("Runs the benchmarks in bench/ against the native `meeshkan` and writes docs/benchmarks.md (with the dashboard's section), docs/benchmarks-scalars.md, docs/benchmarks-output-scalars.md, docs/benchmarks-parallel.md and docs/benchmarks-pipeline.md, and prints the Slurm table (docs/slurm.md).")
    .IsDependentOn("Publish")
    .Does(() =>
{
    Run("bash", "bench/run.sh " + configuration);
    Run("bash", "bench/scalars/run.sh " + configuration);
    Run("bash", "bench/output_scalars/run.sh " + configuration);
    // Several jobs at once next to `tsp -S 2/4`, GPU handoff, memory with 10,000 waiting: docs/benchmarks-parallel.md.
    Run("bash", "bench/parallel.sh " + meeshkan.FullPath);
    // Dependencies and timeouts next to `tsp -D`: docs/benchmarks-pipeline.md.
    Run("bash", "bench/pipeline.sh " + meeshkan.FullPath);
    // Meeshkan on Slurm next to raw sbatch (its own single-node Slurm; root): the table for docs/slurm.md "Speed".
    Run("bash", "bench/slurm/run.sh " + meeshkan.FullPath);
    Run("bash", "bench/Dashboard/run.sh " + configuration);
});

void Run(string tool, string args, IDictionary<string, string> env = null)
{
    var code = StartProcess(tool, new ProcessSettings { Arguments = args, WorkingDirectory = root, EnvironmentVariables = env });
    if (code != 0)
    {
        throw new Exception($"{tool} {args} exited {code}");
    }
}

RunTarget(target);
