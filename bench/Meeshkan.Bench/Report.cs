using System.Globalization;
using System.Text;

namespace Meeshkan.Bench;

/// <summary>docs/benchmarks.md: the machine, then one row per figure, ratio first.</summary>
internal sealed class Report(Options options)
{
    private readonly StringBuilder _rows = new();
    private readonly StringBuilder _series = new();
    private readonly StringBuilder _machine = new();
    private readonly string _loadAtStart = Load();

    public void Machine()
    {
        var cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "?";
        var memKb = long.Parse(File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemTotal:", StringComparison.Ordinal))
            .Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
        _machine.AppendLine(CultureInfo.InvariantCulture, $"- Date: {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        _machine.AppendLine(CultureInfo.InvariantCulture, $"- Machine: {Environment.ProcessorCount} cores (nproc), {cpu}, {memKb / 1024.0 / 1024.0:0.0} GiB memory");
        _machine.AppendLine(CultureInfo.InvariantCulture, $"- OS: {System.Runtime.InteropServices.RuntimeInformation.OSDescription}; .NET {Environment.Version}");
        _machine.AppendLine(CultureInfo.InvariantCulture, $"- Load average (1, 5, 15 min) at start: {_loadAtStart}; at end: {Load()}");
        _machine.AppendLine(CultureInfo.InvariantCulture, $"- `meeshkan` under test: {options.Build}");
        if (options.Quick)
        {
            _machine.AppendLine("- **Quick run** (fewer jobs and rounds): not the full figures.");
        }
    }

    /// <summary>One figure. The ratio is Meeshkan / reference (for rates too: above 1 is better there).</summary>
    public void Add(string figure, double value, double? reference, string unit, string referenceName, string target, bool? met, bool higherIsBetter = false)
    {
        var ratio = reference is { } r && r > 0 ? $"{value / r:0.00}x" : "";
        var refText = reference is { } rv ? $"{Number(rv)} {unit} ({referenceName})" : "";
        var verdict = met switch { true => "met", false => "**not met**", null => "" };
        _rows.AppendLine(CultureInfo.InvariantCulture, $"| {ratio} | {figure} | {Number(value)} {unit} | {refText} | {target} | {verdict} |");
        _ = higherIsBetter;
    }

    public void Series(string title, IEnumerable<string> values) =>
        _series.AppendLine(CultureInfo.InvariantCulture, $"- {title}: {string.Join(", ", values)}");

    public void Write()
    {
        var text = new StringBuilder();
        text.AppendLine("# Benchmarks: Meeshkan next to task-spooler");
        text.AppendLine();
        text.AppendLine("Written by `./build.sh --target=Bench` (bench/run.sh, bench/Meeshkan.Bench). Both systems run in the same");
        text.AppendLine("run, interleaved, on the same machine; read the ratios, the absolute figures move with the machine's load.");
        text.AppendLine("Ratio = Meeshkan / reference: for times lower is better, for jobs/s higher is better.");
        text.AppendLine();
        text.Append(_machine);
        text.AppendLine();
        text.AppendLine("| Ratio | Figure | Meeshkan | Reference | Target | |");
        text.AppendLine("|---:|---|---:|---|---|---|");
        text.Append(_rows);
        text.AppendLine();
        text.AppendLine("## Samples");
        text.AppendLine();
        text.Append(_series);
        if (options.PythonResults is { } python && File.Exists(python))
        {
            text.AppendLine();
            text.AppendLine("## Python `report_scalar` on the training thread (bench/python_report_scalar.py)");
            text.AppendLine();
            text.AppendLine("```");
            text.Append(File.ReadAllText(python));
            text.AppendLine("```");
        }
        if (options.Notes is { } notes && File.Exists(notes))
        {
            text.AppendLine();
            text.Append(File.ReadAllText(notes));
        }
        // The last `--baseline` run's section (BaselineBench) stays: it is written by another run.
        if (File.Exists(options.Out) && File.ReadAllText(options.Out) is var old
            && old.IndexOf(BaselineBench.Heading, StringComparison.Ordinal) is var at and >= 0)
        {
            text.AppendLine();
            text.Append(old[at..]);
        }
        File.WriteAllText(options.Out, text.ToString());
        Console.Error.WriteLine($"bench: wrote {options.Out}");
        Console.WriteLine(text);
    }

    private static string Number(double v) => v >= 100 ? v.ToString("0", CultureInfo.InvariantCulture) : v.ToString("0.0", CultureInfo.InvariantCulture);

    private static string Load() => string.Join(", ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
}
