// Usage: ParseBench FILE. Parses FILE as the agent reads a job's output (OutputLines over 64 KiB reads), once
// with the agent's OutputParser and once with a naive reader (a StreamReader line, one .NET Regex over it, double.Parse),
// alternately, 3 rounds; prints one JSON line per round with this thread's CPU seconds and the scalars found.
using System.Globalization;
using System.Text.RegularExpressions;
using Meeshkan.Agent.OutputScalars;

var path = args[0];
var naive = new Regex(@"(?<name>[A-Za-z_][\w./-]*)\s*[:=]\s*(?<value>[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|nan|inf))(?:\s*\(step (?<step>\d+)\))?",
    RegexOptions.CultureInvariant | RegexOptions.Compiled);
for (var round = 1; round <= 3; round++)
{
    Measure("meeshkan", () => Agent(path));
    Measure("naive-dotnet-regex", () => Naive(path, naive));
}

static void Measure(string name, Func<long> run)
{
    var before = ThreadCpu();
    var found = run();
    var cpu = ThreadCpu() - before;
    Console.WriteLine($"{{\"parser\": \"{name}\", \"cpu_s\": {cpu.TotalSeconds.ToString("R", CultureInfo.InvariantCulture)}, \"scalars\": {found}}}");
}

static long Agent(string path)
{
    // The agent's own code: OutputLines (the reader's line cutting) over 64 KiB reads, OutputParser for each line.
    var lines = new OutputLines(OutputParser.Create(null));
    var found = new List<OutputScalar>();
    var chunk = new byte[1 << 16];
    long total = 0;
    using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
    int read;
    while ((read = file.Read(chunk, 0, chunk.Length)) > 0)
    {
        lines.Feed(chunk.AsSpan(0, read), found);
        total += found.Count;
        found.Clear();
    }
    lines.End(found);
    return total + found.Count;
}

static long Naive(string path, Regex regex)
{
    long total = 0;
    using var reader = new StreamReader(path);
    while (reader.ReadLine() is { } text)
    {
        foreach (Match m in regex.Matches(text))
        {
            var value = m.Groups["value"].Value;
            _ = value is "nan" ? double.NaN : value is "inf" ? double.PositiveInfinity : double.Parse(value, CultureInfo.InvariantCulture);
            total++;
        }
    }
    return total;
}

static TimeSpan ThreadCpu()
{
    // /proc/thread-self/stat: utime and stime (fields 14 and 15) in clock ticks of 10 ms.
    var stat = File.ReadAllText("/proc/thread-self/stat");
    var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
    return TimeSpan.FromMilliseconds((long.Parse(fields[11]) + long.Parse(fields[12])) * 10);
}
