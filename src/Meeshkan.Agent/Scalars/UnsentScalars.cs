using Grpc.Core;
using Meeshkan.Agent.Services;
using Meeshkan.Agent.Store;
using Meeshkan.V1;
using Microsoft.Extensions.Logging;

namespace Meeshkan.Agent.Scalars;

/// <summary>
/// The scalars a job could not deliver before it exited (the agent was stopped or restarting): the Python and C#
/// clients append them to <c>unsent-scalars</c> in the job's folder, each batch a varint length and a serialised
/// <see cref="ScalarBatch"/>. Read once when the job's end is recorded (also for a job re-adopted after it ended);
/// each batch keeps its client id and sequence, so one that had reached the agent before is not stored twice.
/// </summary>
public sealed partial class UnsentScalars(AgentOptions options, JobStore jobs, ScalarStore scalars, Jobs.JobObservers observers, TimeProvider time,
    ILogger<UnsentScalars> logger)
{
    public const string FileName = "unsent-scalars";

    // A length past this is a damaged file, not a batch (clients send at most 64 MiB).
    private const int MaxBatchBytes = 64 * 1024 * 1024;

    /// <summary>Stores the job's unsent batches, then removes the file. Returns the number of points stored.</summary>
    public long Ingest(long jobNumber)
    {
        // The common case, no file, costs one stat and no query.
        var path = Path.Combine(options.Home.JobFolder(jobNumber), FileName);
        if (!File.Exists(path) || jobs.GetByNumber(jobNumber) is not { } job)
        {
            return 0;
        }
        long stored = 0;
        try
        {
            using (var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 16))
            {
                while (ReadBatch(file) is { } batch)
                {
                    stored += Store(job, batch);
                }
            }
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Log.CouldNotRead(logger, job.Number, path, e.Message);
        }
        if (stored > 0)
        {
            Log.Ingested(logger, job.Number, stored);
        }
        return stored;
    }

    private long Store(JobRecord job, ScalarBatch batch)
    {
        if (batch.JobId != job.Id)
        {
            return 0;
        }
        try
        {
            var good = ScalarBatchValidator.Check(batch).Good;
            var series = scalars.Append(job.Number, job.ReportingAttempt, good, time.GetUtcNow().ToUnixTimeMilliseconds() * 1000);
            if (series is null)
            {
                return 0; // delivered before
            }
            observers.ScalarsReported(job, series);
            return good.Values.Count;
        }
        catch (Exception e) when (e is RpcException or ScalarStore.TooManyNamesException)
        {
            Log.Skipped(logger, job.Number, e.Message);
            return 0;
        }
    }

    /// <summary>The next batch, or null at the end of the file (or at a last batch cut short by a kill).</summary>
    private static ScalarBatch? ReadBatch(Stream file)
    {
        long length = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = file.ReadByte();
            if (b < 0 || shift > 28)
            {
                return null;
            }
            length |= (long)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                break;
            }
        }
        if (length > MaxBatchBytes)
        {
            return null;
        }
        var payload = new byte[length];
        if (file.ReadAtLeast(payload, payload.Length, throwOnEndOfStream: false) < payload.Length)
        {
            return null;
        }
        try
        {
            return ScalarBatch.Parser.ParseFrom(payload);
        }
        catch (Google.Protobuf.InvalidProtocolBufferException)
        {
            return null;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(601, LogLevel.Information, "Job {Number}: stored {Points} scalars it could not send before it exited")]
        public static partial void Ingested(ILogger logger, long number, long points);

        [LoggerMessage(602, LogLevel.Warning, "Job {Number}: cannot read {Path}: {Reason}")]
        public static partial void CouldNotRead(ILogger logger, long number, string path, string reason);

        [LoggerMessage(603, LogLevel.Warning, "Job {Number}: an unsent scalar batch was skipped: {Reason}")]
        public static partial void Skipped(ILogger logger, long number, string reason);
    }
}
