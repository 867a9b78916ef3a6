using Meeshkan.Agent.Conditions;
using Meeshkan.Agent.Services;
using Meeshkan.Agent.Store;
using Meeshkan.V1;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Meeshkan.Agent.OutputScalars;

/// <summary>
/// For a job submitted with <c>--scalars-from-output</c>: tails its stdout and stderr files while it runs (they are
/// the job's own files; nothing is changed in them) and stores what <see cref="OutputParser"/> finds as the job's
/// scalars, like scalars a client reports (conditions, notifications, charts). Lines are split at <c>\n</c> and
/// <c>\r</c> (tqdm redraws with <c>\r</c>); a line past <see cref="MaxLineBytes"/> is parsed on its first bytes
/// only, so memory stays flat whatever the job prints. A job without the option costs nothing: no reader runs.
/// </summary>
public sealed partial class OutputScalarReader(IServiceProvider services, ScalarStore scalars, TimeProvider time, ILogger<OutputScalarReader> logger)
    : IAgentObserver
{
    /// <summary>Set in a job's stored environment by submit: "1", or the user's pattern in the next variable.</summary>
    public const string EnabledVariable = "MEESHKAN_SCALARS_FROM_OUTPUT";
    public const string PatternVariable = "MEESHKAN_SCALAR_PATTERN";
    public const int MaxLineBytes = 64 * 1024;
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(200);

    private readonly Dictionary<long, (CancellationTokenSource Ended, Task Reading)> _readers = [];
    private readonly Lock _lock = new();

    /// <summary>Checks the submit options and records them in the job's environment; ArgumentException for a bad pattern.</summary>
    public static IReadOnlyDictionary<string, string> WithOptions(IReadOnlyDictionary<string, string> environment, bool enabled, string pattern)
    {
        if (!enabled && string.IsNullOrEmpty(pattern))
        {
            return environment;
        }
        OutputParser.Create(pattern);
        var env = new Dictionary<string, string>(environment) { [EnabledVariable] = "1" };
        if (!string.IsNullOrEmpty(pattern))
        {
            env[PatternVariable] = pattern;
        }
        return env;
    }

    /// <summary>The file in the job folder, written at submit, that asks for a reader (it holds the pattern, if any).</summary>
    public const string OptionFile = "scalars-from-output";

    /// <summary>At submit: a job with the option gets its marker file (the started job's record has no environment).</summary>
    public static void Remember(JobRecord job)
    {
        if (job.Environment is { } env && env.ContainsKey(EnabledVariable))
        {
            Directory.CreateDirectory(job.OutputDirectory);
            File.WriteAllText(Path.Combine(job.OutputDirectory, OptionFile), env.GetValueOrDefault(PatternVariable) ?? "");
        }
    }

    public void JobStarted(JobRecord job)
    {
        string pattern;
        try
        {
            pattern = File.ReadAllText(Path.Combine(job.OutputDirectory, OptionFile));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return; // the common case: no option, no reader
        }
        var parser = OutputParser.Create(pattern);
        var ended = new CancellationTokenSource();
        var reading = Task.Run(() => ReadAsync(job, parser, ended.Token));
        lock (_lock)
        {
            _readers[job.Number] = (ended, reading);
        }
    }

    public void JobEnded(JobRecord job)
    {
        (CancellationTokenSource Ended, Task Reading) reader;
        lock (_lock)
        {
            if (!_readers.Remove(job.Number, out reader))
            {
                return;
            }
        }
        reader.Ended.Cancel(); // the reader reads to the end of both files, then stops
    }

    private async Task ReadAsync(JobRecord job, OutputParser parser, CancellationToken ended)
    {
        var files = new[] { new Tail(Path.Combine(job.OutputDirectory, "stdout")), new Tail(Path.Combine(job.OutputDirectory, "stderr")) };
        var found = new List<OutputScalar>();
        try
        {
            while (true)
            {
                var last = ended.IsCancellationRequested;
                foreach (var file in files)
                {
                    file.Read(parser, found, store: () => Store(job, found));
                    if (last)
                    {
                        file.EndOfOutput(parser, found);
                    }
                }
                Store(job, found);
                if (last)
                {
                    return;
                }
                try
                {
                    await Task.Delay(PollInterval, ended).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    // One more pass reads what the job wrote last.
                }
            }
        }
        catch (Exception e)
        {
            Log.Failed(logger, job.Number, e);
        }
        finally
        {
            foreach (var file in files)
            {
                file.Dispose();
            }
        }
    }

    private void Store(JobRecord job, List<OutputScalar> found)
    {
        if (found.Count == 0)
        {
            return;
        }
        var nowUs = time.GetUtcNow().ToUnixTimeMilliseconds() * 1000;
        // A batch has steps for all its points or none: points that name a step and points that do not go apart.
        foreach (var stepped in new[] { false, true })
        {
            var batch = new ScalarBatch { JobId = job.Id };
            var index = new Dictionary<string, uint>(StringComparer.Ordinal);
            foreach (var scalar in found.Where(s => s.Step.HasValue == stepped))
            {
                if (!index.TryGetValue(scalar.Name, out var i))
                {
                    i = (uint)index.Count;
                    index[scalar.Name] = i;
                    batch.Names.Add(scalar.Name);
                }
                batch.NameIndex.Add(i);
                batch.Values.Add(scalar.Value);
                batch.WallTimeUs.Add(nowUs);
                if (stepped)
                {
                    batch.Steps.Add(scalar.Step!.Value);
                }
            }
            if (batch.Values.Count > 0)
            {
                Append(job, batch, nowUs);
            }
        }
        found.Clear();
    }

    private void Append(JobRecord job, ScalarBatch batch, long nowUs)
    {
        try
        {
            var good = ScalarBatchValidator.Check(batch).Good;
            if (scalars.Append(job.Number, good, nowUs) is not { } stored)
            {
                return;
            }
            services.GetRequiredService<ConditionEngine>().Evaluate(job, stored);
            foreach (var observer in services.GetServices<IAgentObserver>())
            {
                if (observer != this)
                {
                    observer.ScalarsReported(job, stored);
                }
            }
        }
        catch (Exception e) when (e is Grpc.Core.RpcException or ScalarStore.TooManyNamesException)
        {
            Log.Skipped(logger, job.Number, e.Message);
        }
    }

    /// <summary>One output file read from where the last read stopped, split into lines.</summary>
    private sealed class Tail(string path) : IDisposable
    {
        private readonly byte[] _chunk = new byte[1 << 16];
        private readonly byte[] _line = new byte[MaxLineBytes];
        private int _lineLength;
        private FileStream? _file;

        public void Read(OutputParser parser, List<OutputScalar> found, Action store)
        {
            if (_file is null)
            {
                if (!File.Exists(path))
                {
                    return;
                }
                _file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.SequentialScan);
            }
            int read;
            while ((read = _file.Read(_chunk, 0, _chunk.Length)) > 0)
            {
                var data = _chunk.AsSpan(0, read);
                while (data.Length > 0)
                {
                    var end = data.IndexOfAny((byte)'\n', (byte)'\r');
                    var piece = end < 0 ? data : data[..end];
                    if (_lineLength == 0 && end >= 0)
                    {
                        // The common case: a whole line inside the chunk, parsed where it lies.
                        parser.Parse(piece.Length > MaxLineBytes ? piece[..MaxLineBytes] : piece, found);
                    }
                    else
                    {
                        var room = MaxLineBytes - _lineLength;
                        var kept = Math.Min(room, piece.Length);
                        piece[..kept].CopyTo(_line.AsSpan(_lineLength));
                        _lineLength += kept;
                        if (end >= 0)
                        {
                            parser.Parse(_line.AsSpan(0, _lineLength), found);
                            _lineLength = 0;
                        }
                    }
                    if (end < 0)
                    {
                        break;
                    }
                    data = data[(end + 1)..];
                }
                if (found.Count > 50_000)
                {
                    store();
                }
            }
        }

        /// <summary>The job has ended: a last line without a newline is a line too.</summary>
        public void EndOfOutput(OutputParser parser, List<OutputScalar> found)
        {
            if (_lineLength > 0)
            {
                parser.Parse(_line.AsSpan(0, _lineLength), found);
                _lineLength = 0;
            }
        }

        public void Dispose() => _file?.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Error, "Job {Number}: reading scalars from its output failed")]
        public static partial void Failed(ILogger logger, long number, Exception exception);

        [LoggerMessage(2, LogLevel.Warning, "Job {Number}: scalars read from its output were skipped: {Reason}")]
        public static partial void Skipped(ILogger logger, long number, string reason);
    }
}
