// Run by bench/scalars/run.sh as a submitted job (MEESHKAN_JOB_ID set by the agent): reports N scalars
// (default 10,000,000) through the SDK, two pairs per call, and prints one JSON line with its own timings
// (unix seconds) so that the bench can measure from the first report to the last row in SQLite.
using System.Diagnostics;
using System.Globalization;
using Meeshkan;

var points = args.Length > 0 ? long.Parse(args[0], CultureInfo.InvariantCulture) : 10_000_000;
var names = new[] { "train loss", "eval loss", "accuracy", "learning rate" };
var reporter = Scalars.Reporter;
var process = Process.GetCurrentProcess();
var cpuBefore = process.TotalProcessorTime;
static double Now() => (DateTime.UtcNow - DateTime.UnixEpoch).TotalSeconds;

var first = Now();
var clock = Stopwatch.StartNew();
for (long i = 0; i < points; i += 2)
{
    reporter.ReportScalar(names[(int)(i & 3)], i * 1e-7, names[(int)((i + 1) & 3)], i * 2e-7);
}
var callerSeconds = clock.Elapsed.TotalSeconds;
var last = Now();
var flushed = await reporter.FlushAsync();
var flushedAt = Now();
process.Refresh();
var cpu = (process.TotalProcessorTime - cpuBefore).TotalSeconds;
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"{{\"points\": {points}, \"first\": {first:F6}, \"last\": {last:F6}, \"flushed_at\": {flushedAt:F6}, \"flushed\": {(flushed ? "true" : "false")}, " +
    $"\"caller_s\": {callerSeconds:F6}, \"cpu_s\": {cpu:F3}, \"dropped\": {reporter.DroppedPoints}, " +
    $"\"gc0\": {GC.CollectionCount(0)}, \"gc2\": {GC.CollectionCount(2)}, \"gc_pause_s\": {GC.GetTotalPauseDuration().TotalSeconds:F3}, " +
    $"\"allocated_mb\": {GC.GetTotalAllocatedBytes() / 1e6:F0}}}"));
