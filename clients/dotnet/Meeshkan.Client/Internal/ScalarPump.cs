using System.Diagnostics;
using Grpc.Core;
using Meeshkan.V1;

namespace Meeshkan.Internal;

/// <summary>
/// The reporter's background side: turns taken points into ScalarBatch messages, evaluates function
/// conditions, and sends batches, registrations and events in order, with retries. Only the pump
/// task uses it, one cycle at a time.
/// </summary>
internal sealed class ScalarPump(ScalarReporter reporter, ScalarReporterOptions options)
{
    private const int MaxPendingEvents = 10_000;
    private static readonly double s_microsecondsPerTick = 1_000_000.0 / Stopwatch.Frequency;

    private readonly Queue<PendingBatch> _pending = new();
    private readonly Queue<OutboxItem> _outbox = new();
    private readonly Dictionary<string, double> _latest = new(StringComparer.Ordinal);
    private readonly string _clientId = Guid.NewGuid().ToString();
    private PendingBatch? _openAuto;
    private PendingBatch? _openStepped;
    private ulong _sequence;
    private long _cycle;
    private long _pendingPoints;
    private long _droppedPoints;
    private long _retryAt;
    private TimeSpan _backoff = options.InitialRetryDelay;

    /// <summary>Points built into batches and not yet stored by the agent.</summary>
    public long PendingPoints => Interlocked.Read(ref _pendingPoints);

    public int PendingEvents => _outbox.Count;

    /// <summary>Points dropped because the backlog was full or the agent refused them.</summary>
    public long DroppedPoints => Interlocked.Read(ref _droppedPoints);

    /// <summary>Codes after which the same request may succeed later: keep it and retry.</summary>
    // Internal and Unknown are what a call cut off by a stopping or killed agent often ends with (a reset
    // HTTP/2 stream): retried like Unavailable, so that no scalar is lost across a restart. A retried batch
    // keeps its sequence number, so the agent never stores it twice.
    public static bool IsTransient(StatusCode code) =>
        code is StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Aborted or StatusCode.Cancelled
            or StatusCode.Internal or StatusCode.Unknown or StatusCode.DataLoss;

    /// <summary>One cycle. False when something is left waiting for an unreachable agent.</summary>
    public async Task<bool> CycleAsync(List<OutboxItem> events, PointBuffer points, string? jobId, Condition[] conditions, bool force)
    {
        _cycle++;
        if (jobId is null)
        {
            if (points.Count > 0 || events.Count > 0)
            {
                reporter.Warnings.Once("not-a-job", "not running as a Meeshkan job; scalars are not recorded");
            }
            // What a finished blocking job left behind is still sent.
        }
        else
        {
            foreach (var item in events)
            {
                Queue(item);
            }
            if (points.Count > 0)
            {
                // Conditions see the points in order, before Build moves the latest values to the cycle's end.
                Evaluate(conditions, points, jobId);
                Build(points, jobId);
            }
        }
        if (_pending.Count == 0 && _outbox.Count == 0 && !HasUnregistered(conditions, jobId))
        {
            return true;
        }
        if (!force && Stopwatch.GetTimestamp() < _retryAt)
        {
            return false;
        }
        try
        {
            await SendAsync(conditions, jobId).ConfigureAwait(false);
        }
        catch (AgentUnreachableException error)
        {
            reporter.Warnings.Once("unreachable",
                $"the Meeshkan agent is not reachable at {options.SocketPath} ({error.StatusCode}); keeping scalars and retrying");
            _retryAt = Stopwatch.GetTimestamp() + (long)(_backoff.TotalSeconds * Stopwatch.Frequency);
            _backoff = TimeSpan.FromTicks(Math.Min(_backoff.Ticks * 2, options.MaxRetryDelay.Ticks));
            return false;
        }
        _retryAt = 0;
        _backoff = options.InitialRetryDelay;
        return true;
    }

    /// <summary>
    /// At exit, with the agent unreachable: the submitted job's pending batches go to its folder (see
    /// <see cref="UnsentScalarsFile"/>). Returns how many points were written and where, or null.
    /// </summary>
    public (long Points, string Path)? Spill()
    {
        var jobId = Environment.GetEnvironmentVariable(ScalarReporterOptions.JobIdVariable);
        var folder = UnsentScalarsFile.JobFolder();
        var batches = _pending.Where(b => jobId is { Length: > 0 } && b.JobId == jobId).ToList();
        if (folder is null || batches.Count == 0)
        {
            return null;
        }
        string path;
        try
        {
            path = UnsentScalarsFile.Append(folder, batches.Select(b => b.Batch));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            reporter.Warnings.Once("spill-failed", $"cannot write unsent scalars to {folder}: {e.Message}");
            return null;
        }
        var kept = _pending.Where(b => !batches.Contains(b)).ToList();
        _pending.Clear();
        foreach (var batch in kept)
        {
            _pending.Enqueue(batch);
        }
        long points = batches.Sum(b => (long)b.Points);
        Interlocked.Add(ref _pendingPoints, -points);
        return (points, path);
    }

    // ---- building ---------------------------------------------------------------------------------------

    private void Build(PointBuffer points, string jobId)
    {
        // Monotonic timestamps of the last interval, turned into wall time against a fresh anchor.
        var anchorTicks = Stopwatch.GetTimestamp();
        var anchorUs = (DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) / 10;
        var names = points.Names;
        var values = points.Values;
        var steps = points.Steps;
        var stamps = points.Timestamps;
        var cycle = _cycle;
        for (var i = 0; i < points.Count; i++)
        {
            var stepped = steps[i] != PointBuffer.NoStep;
            var batch = stepped ? _openStepped : _openAuto;
            if (batch is null || batch.Attempted || batch.JobId != jobId || batch.Points >= options.MaxBatchPoints)
            {
                batch?.CollectLatest(cycle, _latest);
                batch = new PendingBatch(jobId, stepped, _clientId, ++_sequence, Math.Min(options.MaxBatchPoints, points.Count - i));
                _pending.Enqueue(batch);
                if (stepped)
                {
                    _openStepped = batch;
                }
                else
                {
                    _openAuto = batch;
                }
            }
            var wallUs = anchorUs - (long)((anchorTicks - stamps[i]) * s_microsecondsPerTick);
            batch.Add(names[i], values[i], steps[i], wallUs, cycle);
        }
        _openAuto?.CollectLatest(cycle, _latest);
        _openStepped?.CollectLatest(cycle, _latest);
        Interlocked.Add(ref _pendingPoints, points.Count);
        while (_pendingPoints > options.MaxBufferedPoints && _pending.Count > 1)
        {
            var dropped = _pending.Dequeue();
            Interlocked.Add(ref _pendingPoints, -dropped.Points);
            reporter.BufferFull(dropped.Points);
        }
    }

    /// <summary>
    /// Checks each function condition whenever one of its scalars changes, walking the points in the order they
    /// were reported; the pairs of one ReportScalar call (same timestamp) count as one change. A condition that
    /// was met is not checked again for <see cref="ConditionQuiet"/>: the agent's cooldown would drop it anyway.
    /// </summary>
    private void Evaluate(Condition[] conditions, PointBuffer points, string jobId)
    {
        var now = Stopwatch.GetTimestamp();
        var active = conditions.Where(c => c.EvaluatedByClient && !c.Rejected && _quietUntil.GetValueOrDefault(c.LocalId) <= now).ToList();
        var names = points.Names;
        var values = points.Values;
        var stamps = points.Timestamps;
        if (active.Count == 0)
        {
            // Build keeps the latest values per batch, without a dictionary write per point.
            return;
        }
        var watched = active.SelectMany(c => c.Names).ToHashSet(StringComparer.Ordinal);
        var touched = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < points.Count; i++)
        {
            _latest[names[i]] = values[i];
            if (watched.Contains(names[i]))
            {
                touched.Add(names[i]);
            }
            if (touched.Count == 0 || (i + 1 < points.Count && stamps[i + 1] == stamps[i]))
            {
                continue;
            }
            for (var c = active.Count - 1; c >= 0; c--)
            {
                var condition = active[c];
                if (!condition.Names.Any(touched.Contains))
                {
                    continue;
                }
                var snapshot = condition.Values(_latest);
                bool met;
                try
                {
                    met = condition.Function!(snapshot);
                }
                catch (Exception error)
                {
                    reporter.Warnings.Once($"condition-error-{condition.LocalId}",
                        $"condition '{condition.Description}' threw {error.GetType().Name}: {error.Message}; it is skipped while it fails");
                    continue;
                }
                if (met)
                {
                    Queue(new OutboxItem.ConditionMet(jobId, condition, snapshot));
                    _quietUntil[condition.LocalId] = now + (long)(ConditionQuiet.TotalSeconds * Stopwatch.Frequency);
                    active.RemoveAt(c);
                }
            }
            touched.Clear();
        }
    }

    /// <summary>How long a met function condition is not checked again.</summary>
    private static readonly TimeSpan ConditionQuiet = TimeSpan.FromSeconds(1);

    private readonly Dictionary<long, long> _quietUntil = [];

    private void Queue(OutboxItem item)
    {
        _outbox.Enqueue(item);
        if (_outbox.Count > MaxPendingEvents)
        {
            _outbox.Dequeue();
            reporter.Warnings.Once("events-full", "too many notifications are waiting for the agent; dropping the oldest");
        }
    }

    private static bool HasUnregistered(Condition[] conditions, string? jobId) =>
        jobId is not null && conditions.Any(c => !c.Rejected && c.AgentId(jobId) is null);

    // ---- sending ----------------------------------------------------------------------------------------

    private async Task SendAsync(Condition[] conditions, string? jobId)
    {
        var client = reporter.Client;
        if (jobId is not null)
        {
            foreach (var condition in conditions)
            {
                if (!condition.Rejected && condition.AgentId(jobId) is null)
                {
                    await RegisterAsync(client, condition, jobId).ConfigureAwait(false);
                }
            }
        }
        while (_pending.TryPeek(out var batch))
        {
            batch.Attempted = true;
            var reply = await CallAsync(c => c.ReportScalarsAsync(batch.Batch, deadline: Deadline()), client, "scalars", batch.JobId).ConfigureAwait(false);
            if (reply is null)
            {
                Interlocked.Add(ref _droppedPoints, batch.Points);
            }
            _pending.Dequeue();
            Interlocked.Add(ref _pendingPoints, -batch.Points);
        }
        while (_outbox.TryPeek(out var item))
        {
            switch (item)
            {
                case OutboxItem.Notification notification:
                    await CallAsync(c => c.NotifyAsync(new NotifyRequest { JobId = notification.JobId, Message = notification.Message }, deadline: Deadline()),
                        client, "a notification", item.JobId).ConfigureAwait(false);
                    break;
                case OutboxItem.ConditionMet met when met.Condition.AgentId(met.JobId) is { } conditionId:
                    var request = new ConditionMetRequest { JobId = met.JobId, ConditionId = conditionId };
                    for (var i = 0; i < met.Values.Length; i++)
                    {
                        request.Values[met.Condition.Names[i]] = met.Values[i];
                    }
                    await CallAsync(c => c.ReportConditionMetAsync(request, deadline: Deadline()), client, "a condition", item.JobId).ConfigureAwait(false);
                    break;
            }
            _outbox.Dequeue();
        }
    }

    private async Task RegisterAsync(ReportService.ReportServiceClient client, Condition condition, string jobId)
    {
        try
        {
            var reply = await client.AddConditionAsync(ScalarReporter.RegistrationRequest(condition, jobId), deadline: Deadline()).ConfigureAwait(false);
            condition.Registered(jobId, reply.ConditionId);
        }
        catch (RpcException error) when (IsTransient(error.StatusCode))
        {
            throw new AgentUnreachableException(error);
        }
        catch (RpcException error)
        {
            condition.Rejected = true;
            reporter.Warnings.Once($"condition-rejected-{condition.LocalId}",
                $"the agent rejected condition '{condition.Description}' ({error.StatusCode}: {error.Status.Detail})");
        }
    }

    /// <summary>One call: throws AgentUnreachableException on transient errors, warns once and returns null otherwise.</summary>
    private async Task<T?> CallAsync<T>(Func<ReportService.ReportServiceClient, AsyncUnaryCall<T>> call,
        ReportService.ReportServiceClient client, string what, string jobId) where T : class
    {
        try
        {
            return await call(client).ResponseAsync.ConfigureAwait(false);
        }
        catch (RpcException error) when (IsTransient(error.StatusCode))
        {
            throw new AgentUnreachableException(error);
        }
        catch (RpcException error) when (error.StatusCode is StatusCode.FailedPrecondition or StatusCode.NotFound)
        {
            reporter.Warnings.Once($"refused-{error.StatusCode}-{jobId}",
                $"the agent refused {what} for job {jobId} ({error.StatusCode}: {error.Status.Detail}); the job has ended or is unknown, dropping it");
            return null;
        }
        catch (RpcException error)
        {
            reporter.Warnings.Once($"refused-{what}-{error.StatusCode}",
                $"the agent refused {what} ({error.StatusCode}: {error.Status.Detail}); dropping it");
            return null;
        }
    }

    private DateTime Deadline() => DateTime.UtcNow + options.CallTimeout;
}
