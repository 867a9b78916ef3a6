using System.Threading.Channels;
using Meeshkan.Agent.Executors;
using Meeshkan.Agent.Jobs;
using Meeshkan.Agent.Store;
using Microsoft.Extensions.Logging;

namespace Meeshkan.Agent.Scheduler;

/// <summary>
/// Records the ends of attempts after which a job does not run again (its end state, what it could not deliver, the
/// observers told, then a cancel's caller answered), in the order the run loop heard of them, on a thread of its own:
/// the loop starts the next job meanwhile instead of waiting on the store (a third of its time with many short jobs).
/// A full disk keeps them, in order, until they can be written; meanwhile <see cref="Stuck"/> holds and the loop
/// starts nothing. Ends after which a job is retried stay on the loop (the retry is queued there).
/// </summary>
internal sealed partial class EndRecorder
{
    /// <summary>An attempt's end as the loop saw it, and who waits for it to be recorded (cancel).</summary>
    internal sealed record End(JobRecord Job, JobExit Exit, AttemptEnd How, string? StopReason, IReadOnlyList<TaskCompletionSource<bool>> Waiting);

    private readonly JobLifecycle _lifecycle;
    private readonly RunLoopInbox _inbox;
    private readonly ILogger _logger;
    private readonly TimeSpan _diskFullRetry;
    private readonly Channel<End> _ends = Channel.CreateUnbounded<End>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _recording;
    private volatile bool _stuck;

    public EndRecorder(JobLifecycle lifecycle, RunLoopInbox inbox, ILogger logger, TimeSpan diskFullRetry)
    {
        _lifecycle = lifecycle;
        _inbox = inbox;
        _logger = logger;
        _diskFullRetry = diskFullRetry;
        _recording = Task.Run(RecordAsync);
    }

    /// <summary>Queues an end to be recorded after those queued before it.</summary>
    public void Add(End end) => _ends.Writer.TryWrite(end);

    /// <summary>The disk refused the oldest end waiting here: it and those after it wait for room.</summary>
    public bool Stuck => _stuck;

    /// <summary>Records what is queued, then stops; an end the full disk refuses is left (as when the agent is killed).</summary>
    public async Task StopAsync()
    {
        _ends.Writer.TryComplete();
        await Task.WhenAny(_recording, Task.Delay(TimeSpan.FromSeconds(10))).ConfigureAwait(false);
        await _stop.CancelAsync().ConfigureAwait(false);
        await _recording.ConfigureAwait(false);
    }

    private async Task RecordAsync()
    {
        var reader = _ends.Reader;
        try
        {
            while (await reader.WaitToReadAsync(_stop.Token).ConfigureAwait(false))
            {
                while (reader.TryPeek(out var end))
                {
                    if (!Record(end))
                    {
                        await Task.Delay(_diskFullRetry, _stop.Token).ConfigureAwait(false);
                        continue;
                    }
                    reader.TryRead(out _);
                    foreach (var waiting in end.Waiting)
                    {
                        waiting.TrySetResult(true);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
    }

    /// <summary>Records one end; false when the full disk refused it (the loop is told once).</summary>
    private bool Record(End end)
    {
        try
        {
            _lifecycle.RecordEnd(end.Job, end.Exit, end.How, end.StopReason);
            _stuck = false;
            return true;
        }
        catch (Exception e) when (DiskFull.Is(e))
        {
            if (!_stuck)
            {
                _stuck = true;
                _inbox.EndsNotRecorded();
            }
            return false;
        }
        catch (Exception e)
        {
            // Not lost silently, and the ends after it are still recorded.
            Log.RecordFailed(_logger, end.Job.Number, e);
            return true;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(LogEvents.Scheduler + 6, LogLevel.Error, "The end of job {Number} could not be recorded")]
        public static partial void RecordFailed(ILogger logger, long number, Exception exception);
    }
}
