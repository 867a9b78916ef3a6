using Meeshkan.Agent.Jobs;
using Meeshkan.Agent.Services;
using Meeshkan.Agent.Store;
using Meeshkan.V1;
using Microsoft.Extensions.Logging;

namespace Meeshkan.Agent.OutputScalars;

/// <summary>
/// For a job submitted with <c>--scalars-from-output</c> (<see cref="JobRecord.ScalarPattern"/> set): tails its stdout
/// and stderr files while it runs (the job writes them itself, so reading never slows it; nothing is changed in them)
/// and hands what <see cref="OutputParser"/> finds to <see cref="JobReports.Store"/>, like scalars a client reports
/// (conditions, notifications, charts); <see cref="OutputLines"/> cuts the bytes into lines, with flat memory.
/// Each stored batch carries how far its file was read (client id "output:JOB-ID:stdout", "output:JOB-ID:attempt-2:stdout"
/// for a later attempt; sequence = that offset), in
/// the same transaction as its points: after an agent restart reading resumes there, and no line is stored twice.
/// A job without the option costs nothing: no reader runs.
/// </summary>
public sealed partial class OutputScalarReader(JobReports reports, ScalarStore scalars, ILogger<OutputScalarReader> logger) : IDisposable
{
    private readonly JobReports _reports = reports;
    private readonly ScalarStore _scalars = scalars;
    private readonly ILogger _logger = logger;

    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(200);

    // Points held before they are stored while a large backlog is read (a batch stays well under the clients' limit).
    private const int MaxPointsPerBatch = 50_000;

    private readonly Dictionary<long, Reader> _readers = [];
    private readonly Lock _lock = new();
    private readonly CancellationTokenSource _agentStopping = new();

    /// <summary>A job started: reads its output from the beginning.</summary>
    public void Start(JobRecord job) => Begin(job, resume: false);

    /// <summary>A running job this agent re-attached after a restart: reads on from where the last agent stored.</summary>
    public void Resume(JobRecord job) => Begin(job, resume: true);

    /// <summary>
    /// The job's process has exited, its end is not recorded yet: reads its output to the end (a last line without a
    /// newline too) and stores it, so that the end notification and anyone who waits for the end see every scalar.
    /// </summary>
    public void Finish(JobRecord job)
    {
        if (job.ScalarPattern is null)
        {
            return;
        }
        Reader? reader;
        lock (_lock)
        {
            _readers.Remove(job.Number, out reader);
        }
        try
        {
            // A job that ended while no agent ran was never resumed: read what is left now.
            reader ??= new Reader(this, job, resume: true);
            reader.FinishAsync().GetAwaiter().GetResult();
        }
        catch (Exception e)
        {
            Log.Failed(_logger, job.Number, e);
        }
    }

    /// <summary>The agent stops: readers stop where they are (the next agent resumes there).</summary>
    public void Dispose()
    {
        _agentStopping.Cancel();
        _agentStopping.Dispose();
    }

    private void Begin(JobRecord job, bool resume)
    {
        if (job.ScalarPattern is null)
        {
            return; // the common case: no option, no reader
        }
        try
        {
            var reader = new Reader(this, job, resume);
            lock (_lock)
            {
                _readers[job.Number] = reader;
            }
            reader.Run();
        }
        catch (Exception e)
        {
            Log.Failed(_logger, job.Number, e);
        }
    }

    /// <summary>One job's two files and the loop that polls them.</summary>
    private sealed class Reader
    {
        private readonly OutputScalarReader _owner;
        private readonly JobRecord _job;
        private readonly Tail[] _files;
        private readonly CancellationTokenSource _ended = new();
        private Task _reading = Task.CompletedTask;

        public Reader(OutputScalarReader owner, JobRecord job, bool resume)
        {
            _owner = owner;
            _job = job;
            var parser = OutputParser.Create(job.ScalarPattern);
            _files =
            [
                Open(job.Folder.Stdout, "stdout"),
                Open(job.Folder.Stderr, "stderr"),
            ];

            Tail Open(string path, string stream)
            {
                // Each attempt (submit --retries) writes its files anew: its offsets are its own.
                var clientId = job.Attempt <= 1 ? $"output:{job.Id}:{stream}" : $"output:{job.Id}:attempt-{job.Attempt}:{stream}";
                var from = resume ? (long)Math.Max(owner._scalars.LastSequence(clientId), owner._scalars.LastSequence(clientId + ":step")) : 0;
                return new Tail(path, clientId, from, parser);
            }
        }

        public void Run() => _reading = Task.Run(PollAsync);

        public async Task FinishAsync()
        {
            await _ended.CancelAsync().ConfigureAwait(false);
            await _reading.ConfigureAwait(false);
            foreach (var file in _files)
            {
                file.Read(Store, endOfOutput: true);
                file.Dispose();
            }
        }

        private async Task PollAsync()
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(_ended.Token, _owner._agentStopping.Token);
            try
            {
                while (!stop.IsCancellationRequested)
                {
                    foreach (var file in _files)
                    {
                        file.Read(Store, endOfOutput: false);
                    }
                    await Task.Delay(PollInterval, stop.Token).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException)
            {
                // Ended (FinishAsync reads the rest) or the agent stops.
            }
            catch (Exception e)
            {
                Log.Failed(_owner._logger, _job.Number, e);
            }
        }

        private void Store(ScalarBatch batch)
        {
            try
            {
                // Points with names the agent refuses (a user pattern's name group can catch anything) are left out.
                _owner._reports.Store(_job, ScalarBatchValidator.Check(batch).Good);
            }
            catch (Exception e) when (e is JobException or Grpc.Core.RpcException)
            {
                Log.Skipped(_owner._logger, _job.Number, e.Message);
            }
        }
    }

    /// <summary>One output file read on from an offset, its scalars stored with the offset of the last whole line read.</summary>
    private sealed class Tail(string path, string clientId, long from, OutputParser parser) : IDisposable
    {
        private readonly byte[] _chunk = new byte[1 << 16];
        private readonly List<OutputScalar> _found = [];
        private readonly OutputLines _lines = new(parser, from);
        private FileStream? _file;

        public void Read(Action<ScalarBatch> store, bool endOfOutput)
        {
            if (_file is null)
            {
                if (!File.Exists(path))
                {
                    return;
                }
                _file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.SequentialScan);
                _file.Seek(from, SeekOrigin.Begin);
            }
            int read;
            while ((read = _file.Read(_chunk, 0, _chunk.Length)) > 0)
            {
                _lines.Feed(_chunk.AsSpan(0, read), _found);
                if (_found.Count >= MaxPointsPerBatch)
                {
                    Flush(store);
                }
            }
            if (endOfOutput)
            {
                _lines.End(_found);
            }
            // Stored with the offset of the last whole line: an unfinished line is read again by a next agent.
            Flush(store);
        }

        public void Dispose() => _file?.Dispose();

        private void Flush(Action<ScalarBatch> store)
        {
            var offset = _lines.Consumed;
            if (_found.Count == 0)
            {
                return;
            }
            // A batch has steps for all its points or none: points that name a step and points that do not go apart, each
            // kind under its own client id with this read's offset (an agent killed between the two commits loses the
            // second batch of that one read, never stores one twice).
            var unstepped = Batch(stepped: false);
            var stepped = Batch(stepped: true);
            _found.Clear();
            if (unstepped.Values.Count > 0)
            {
                unstepped.ClientId = clientId;
                unstepped.Sequence = (ulong)offset;
                store(unstepped);
            }
            if (stepped.Values.Count > 0)
            {
                stepped.ClientId = clientId + ":step";
                stepped.Sequence = (ulong)offset;
                store(stepped);
            }
        }

        private ScalarBatch Batch(bool stepped)
        {
            var batch = new ScalarBatch();
            var index = new Dictionary<string, uint>(StringComparer.Ordinal);
            foreach (var scalar in _found)
            {
                if (scalar.Step.HasValue != stepped)
                {
                    continue;
                }
                if (!index.TryGetValue(scalar.Name, out var i))
                {
                    i = (uint)index.Count;
                    index[scalar.Name] = i;
                    batch.Names.Add(scalar.Name);
                }
                batch.NameIndex.Add(i);
                batch.Values.Add(scalar.Value);
                if (stepped)
                {
                    batch.Steps.Add(scalar.Step!.Value);
                }
            }
            return batch;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(LogEvents.OutputScalars + 1, LogLevel.Error, "Job {Number}: reading scalars from its output failed")]
        public static partial void Failed(ILogger logger, long number, Exception exception);

        [LoggerMessage(LogEvents.OutputScalars + 2, LogLevel.Warning, "Job {Number}: scalars read from its output were skipped: {Reason}")]
        public static partial void Skipped(ILogger logger, long number, string reason);
    }
}
