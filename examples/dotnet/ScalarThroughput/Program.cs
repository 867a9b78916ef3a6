// Reports N scalars (default 10,000,000) as fast as possible into a blocking job and prints the rates:
// the caller's (appending to the buffer) and end to end (until the agent replied that all are stored).
//   meeshkan start
//   dotnet run -c Release --project examples/dotnet/ScalarThroughput -- 10000000
//   meeshkan report scalar-throughput
using System.Diagnostics;
using Meeshkan;

var points = args.Length > 0 ? long.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 10_000_000;
var names = new[] { "train loss", "eval loss", "accuracy", "learning rate" };

await MeeshkanJob.RunAsync("scalar-throughput", null, async () =>
{
    var reporter = Scalars.Reporter;
    var process = Process.GetCurrentProcess();
    var cpuBefore = process.TotalProcessorTime;
    var clock = Stopwatch.StartNew();
    for (long i = 0; i < points; i += 2)
    {
        reporter.ReportScalar(names[(int)(i & 3)], i * 1e-7, names[(int)((i + 1) & 3)], i * 2e-7);
    }
    var caller = clock.Elapsed;
    var flushed = await reporter.FlushAsync();
    var endToEnd = clock.Elapsed;
    process.Refresh();
    var cpu = process.TotalProcessorTime - cpuBefore;
    Console.WriteLine($"{points:N0} scalars, flushed: {flushed}, dropped: {reporter.DroppedPoints:N0}");
    Console.WriteLine($"caller:     {points / caller.TotalSeconds,14:N0} scalars/s ({caller.TotalNanoseconds / points:F1} ns each)");
    Console.WriteLine($"end to end: {points / endToEnd.TotalSeconds,14:N0} scalars/s ({endToEnd.TotalSeconds:F2} s until the agent stored all)");
    Console.WriteLine($"client CPU: {cpu.TotalNanoseconds / points,14:F1} ns per scalar, all threads (caller + pump + gRPC); load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
    Console.WriteLine($"GC:         gen0 {GC.CollectionCount(0)}, gen2 {GC.CollectionCount(2)}, paused {GC.GetTotalPauseDuration().TotalSeconds:F2} s, allocated {GC.GetTotalAllocatedBytes() / 1e6:N0} MB");
});
