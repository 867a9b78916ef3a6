using Google.Protobuf;
using Meeshkan.Agent.Store;
using Meeshkan.V1;

namespace Meeshkan.Agent.Logs;

/// <summary>
/// Streams a job's stdout and stderr files in fixed-size chunks (memory stays flat whatever the size),
/// and with follow keeps reading until the job has ended and both files are drained.
/// </summary>
public sealed class LogStreamer(JobStore store)
{
    private const int ChunkSize = 64 * 1024;
    private static readonly TimeSpan FollowPoll = TimeSpan.FromMilliseconds(100);

    public async Task StreamAsync(JobRecord job, bool follow, Func<LogChunk, Task> write, CancellationToken cancel)
    {
        var stdout = new Tail(job.Folder.Stdout, LogChunk.Types.Stream.Stdout);
        var stderr = new Tail(job.Folder.Stderr, LogChunk.Types.Stream.Stderr);
        if (!follow)
        {
            await stdout.DrainAsync(write, cancel).ConfigureAwait(false);
            await stderr.DrainAsync(write, cancel).ConfigureAwait(false);
            return;
        }
        while (true)
        {
            // Read the state before draining, so output written just before the end is not missed.
            var ended = store.GetByNumber(job.Number)?.IsEnded ?? true;
            var wrote = await stdout.DrainAsync(write, cancel).ConfigureAwait(false);
            wrote |= await stderr.DrainAsync(write, cancel).ConfigureAwait(false);
            if (ended)
            {
                return;
            }
            if (!wrote)
            {
                await Task.Delay(FollowPoll, cancel).ConfigureAwait(false);
            }
        }
    }

    private sealed class Tail(string path, LogChunk.Types.Stream stream)
    {
        private long _offset;
        private readonly byte[] _buffer = new byte[ChunkSize];

        public async Task<bool> DrainAsync(Func<LogChunk, Task> write, CancellationToken cancel)
        {
            if (!File.Exists(path))
            {
                return false;
            }
            await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, useAsync: false);
            file.Seek(_offset, SeekOrigin.Begin);
            var wrote = false;
            int read;
            while ((read = await file.ReadAsync(_buffer, cancel).ConfigureAwait(false)) > 0)
            {
                _offset += read;
                wrote = true;
                await write(new LogChunk { Stream = stream, Data = ByteString.CopyFrom(_buffer, 0, read) }).ConfigureAwait(false);
            }
            return wrote;
        }
    }
}
