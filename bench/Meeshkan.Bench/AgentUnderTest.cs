using System.Diagnostics;
using Grpc.Net.Client;
using Meeshkan.V1;

namespace Meeshkan.Bench;

/// <summary>One agent with its own data folder, driven through the `meeshkan` executable and its gRPC API.</summary>
internal sealed class AgentUnderTest : IDisposable
{
    private readonly string _meeshkan;
    private GrpcChannel? _channel;

    public AgentUnderTest(string meeshkan, string folder)
    {
        _meeshkan = meeshkan;
        if (Directory.Exists(folder))
        {
            Directory.Delete(folder, recursive: true);
        }
        Home = new MeeshkanHome(folder);
        Env = new Dictionary<string, string> { [MeeshkanHome.EnvironmentVariable] = Home.Root };
    }

    public MeeshkanHome Home { get; }

    public IReadOnlyDictionary<string, string> Env { get; }

    public JobService.JobServiceClient Jobs => new(_channel ??= AgentChannel.ForSocket(Home.SocketPath));

    public int Pid => int.Parse(File.ReadAllText(Home.PidFile).Trim());

    /// <summary>`meeshkan start`: returns once the agent answers. Wall ms.</summary>
    public double Start() => Cli("start");

    public void Stop()
    {
        Cli("stop", "--cancel-jobs");
        _channel?.Dispose();
        _channel = null;
    }

    /// <summary>One `meeshkan ARGS` call: wall ms.</summary>
    public double Cli(params string[] args) => Programs.Time(_meeshkan, args, Env);

    /// <summary>One `meeshkan submit true`: the job number, and when the CLI had returned (Unix ms).</summary>
    public (long Number, double ReturnedAtUnixMs) SubmitTrue()
    {
        var (code, output) = Programs.Run(_meeshkan, ["submit", "true"], Env);
        var returned = NowUnixMs();
        if (code != 0)
        {
            throw new InvalidOperationException($"meeshkan submit exited {code}: {output}");
        }
        // "Job 12 submitted: true (uuid)"
        return (long.Parse(output.Split(' ')[1]), returned);
    }

    /// <summary>`meeshkan submit --from FILE` (one job per line, one call), as a user types it; returns the last job's number.</summary>
    public long SubmitFrom(string file)
    {
        var (code, output) = Programs.Run(_meeshkan, ["submit", "--from", file], Env);
        if (code != 0)
        {
            throw new InvalidOperationException($"meeshkan submit --from exited {code}: {output}");
        }
        // One "Job 12 submitted: true (uuid)" line per job.
        var last = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Last(l => l.StartsWith("Job ", StringComparison.Ordinal));
        return long.Parse(last.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Queues <paramref name="count"/> `true` jobs in one SubmitJobs call; returns the last job's number.</summary>
    public long SubmitBatch(int count)
    {
        var request = new SubmitJobsRequest();
        for (var i = 0; i < count; i++)
        {
            var job = new SubmitJobRequest { Name = "true", WorkingDirectory = "/tmp" };
            job.Command.Add("true");
            job.Environment.Add("PATH", Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin");
            request.Jobs.Add(job);
        }
        return Jobs.SubmitJobs(request).Jobs[^1].Number;
    }

    /// <summary>Waits until job <paramref name="number"/> has ended (jobs run in order, so all before it have too).</summary>
    public void WaitEnded(long number, TimeSpan? timeout = null)
    {
        var deadline = Stopwatch.StartNew();
        var request = new GetJobRequest { Identifier = number.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        while (true)
        {
            var job = Jobs.GetJob(request);
            if (job.State is JobState.Finished or JobState.Failed or JobState.Canceled)
            {
                return;
            }
            if (deadline.Elapsed > (timeout ?? TimeSpan.FromMinutes(5)))
            {
                throw new TimeoutException($"job {number} still {job.State}");
            }
            // task-spooler's `tsp -w` blocks without a sound; polling every 2 ms loaded the agent being measured with
            // 500 calls a second. 20 ms is at most 20 ms late on a run of seconds.
            Thread.Sleep(20);
        }
    }

    /// <summary>When job <paramref name="number"/> became RUNNING (Unix ms), waiting for it if needed.</summary>
    public double StartedAt(long number)
    {
        var request = new GetJobRequest { Identifier = number.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        for (var i = 0; i < 5000; i++)
        {
            var job = Jobs.GetJob(request);
            if (job.StartedAt is { } started)
            {
                return started.Seconds * 1000.0 + started.Nanos / 1e6;
            }
            Thread.Sleep(1);
        }
        throw new TimeoutException($"job {number} never started");
    }

    public static double NowUnixMs() => (DateTime.UtcNow - DateTime.UnixEpoch).TotalMilliseconds;

    public void Dispose()
    {
        try
        {
            if (File.Exists(Home.SocketPath))
            {
                Stop();
            }
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"bench: could not stop the agent in {Home.Root}: {e.Message}");
        }
        _channel?.Dispose();
    }
}
