using System.Diagnostics;
using System.Runtime.CompilerServices;
using Grpc.Core;
using Grpc.Net.Client;
using Meeshkan.Internal;
using Meeshkan.V1;

namespace Meeshkan;

/// <summary>
/// Reports scalars, conditions and notifications of one job to the Meeshkan agent.
/// </summary>
/// <remarks>
/// <para>
/// <see cref="ReportScalar(string, double)"/> only appends to an in-memory buffer under a short lock:
/// it never blocks on the agent and never throws for a connection problem. One background pump
/// takes the buffer every <see cref="ScalarReporterOptions.SendInterval"/> (or as soon as
/// <see cref="ScalarReporterOptions.MaxBatchPoints"/> points wait), sends them as column-wise
/// batches, evaluates function conditions on the latest values and sends notifications in order.
/// When the agent is down it keeps a bounded backlog and retries with backoff; problems are
/// reported once each through <see cref="ScalarReporterOptions.Warning"/>.
/// </para>
/// <para>
/// Outside a job (no <c>MEESHKAN_JOB_ID</c>, no <see cref="MeeshkanJob"/>) the calls cost almost
/// nothing and record nothing. Most programs use the process-wide reporter through
/// <see cref="Scalars"/>; create one yourself to choose the options.
/// </para>
/// </remarks>
public sealed class ScalarReporter : IAsyncDisposable
{
    private const int MaxNotificationLength = 4000;
    private const string NotAJobMessage =
        "not running as a Meeshkan job; scalars are not recorded (submit the program with `meeshkan submit`, or use MeeshkanJob)";

    private readonly ScalarReporterOptions _options;
    private readonly GrpcChannel _channel;
    private readonly ScalarPump _pump;
    private readonly Task _pumpTask;
    private readonly SemaphoreSlim _wake = new(0);
    private readonly Lock _lock = new();
    private PointBuffer _front = new();
    private PointBuffer _spare = new();
    private int _nextWakeAt;
    private List<OutboxItem> _events = [];
    private List<TaskCompletionSource<bool>> _flushWaiters = [];
    private readonly List<Condition> _conditions = [];
    private volatile string? _jobId;
    private volatile bool _bufferFull;
    private long _droppedPoints;
    private bool _closing;
    // At exit, after a failed flush: the pump's last cycle writes what it could not send to the job folder.
    private bool _spillAtClose;
    private (long Points, string Path)? _spilled;
    private int _disposed;

    /// <summary>Creates a reporter and starts its background pump. Nothing is sent until something is reported.</summary>
    public ScalarReporter(ScalarReporterOptions? options = null)
    {
        _options = (options ?? new ScalarReporterOptions()).Clone();
        _options.Validate();
        _jobId = _options.JobId;
        _nextWakeAt = _options.MaxBatchPoints;
        Warnings = new Warnings(_options.Warning ?? Warnings.ToStandardError);
        _channel = _options.OpenChannel();
        Client = new ReportService.ReportServiceClient(_channel);
        _pump = new ScalarPump(this, _options);
        _pumpTask = Task.Run(PumpAsync);
        if (_options.FlushOnProcessExit)
        {
            AppDomain.CurrentDomain.ProcessExit += OnProcessExit;
        }
    }

    /// <summary>The job scalars are reported to; null outside a job.</summary>
    public string? JobId => _jobId;

    /// <summary>Where this reporter sends: the agent's socket, or its TLS listener's URL (MEESHKAN_AGENT_URL).</summary>
    public string SocketPath => _options.Where;

    /// <summary>Points dropped so far because the buffer was full or the agent refused them.</summary>
    public long DroppedPoints => Interlocked.Read(ref _droppedPoints) + _pump.DroppedPoints;

    internal ReportService.ReportServiceClient Client { get; }

    internal Warnings Warnings { get; }

    internal ScalarReporterOptions Options => _options;

    // ---- scalars (the caller's thread) --------------------------------------------------------------

    /// <summary>Reports one value of scalar <paramref name="name"/>; the agent numbers its steps 0, 1, 2, …</summary>
    /// <param name="name">Any non-empty name, e.g. "train loss".</param>
    /// <param name="value">The value; NaN and infinities are kept.</param>
    /// <exception cref="ArgumentException"><paramref name="name"/> is null, blank, longer than 512 characters or has control characters (nothing is reported then).</exception>
    public void ReportScalar(string name, double value)
    {
        CheckName(name, nameof(name));
        Append(name, value, PointBuffer.NoStep, Stopwatch.GetTimestamp());
    }

    /// <summary>Reports one value of scalar <paramref name="name"/> at an explicit step.</summary>
    /// <exception cref="ArgumentException"><paramref name="name"/> is null, blank, longer than 512 characters or has control characters (nothing is reported then).</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="step"/> is negative.</exception>
    public void ReportScalar(string name, double value, long step)
    {
        CheckName(name, nameof(name));
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        Append(name, value, step, Stopwatch.GetTimestamp());
    }

    /// <summary>Reports two scalars at once (same time).</summary>
    public void ReportScalar(string name1, double value1, string name2, double value2) =>
        ReportScalars([(name1, value1), (name2, value2)]);

    /// <summary>Reports three scalars at once (same time).</summary>
    public void ReportScalar(string name1, double value1, string name2, double value2, string name3, double value3) =>
        ReportScalars([(name1, value1), (name2, value2), (name3, value3)]);

    /// <summary>Reports any number of scalars at once (same time): <c>ReportScalars(("loss", l), ("accuracy", a))</c>.</summary>
    /// <exception cref="ArgumentException">A name is null, blank, longer than 512 characters or has control characters (nothing of the call is reported then).</exception>
    public void ReportScalars(params ReadOnlySpan<(string Name, double Value)> scalars)
    {
        foreach (var (name, _) in scalars)
        {
            CheckName(name, nameof(scalars));
        }
        if (_jobId is null)
        {
            Warnings.Once("not-a-job", NotAJobMessage);
            return;
        }
        var now = Stopwatch.GetTimestamp();
        bool wake = false;
        var full = 0;
        lock (_lock)
        {
            var buffer = _front;
            foreach (var (name, value) in scalars)
            {
                if (buffer.Count >= _options.MaxBufferedPoints)
                {
                    full++;
                    continue;
                }
                buffer.Add(name, value, PointBuffer.NoStep, now);
            }
            if (buffer.Count >= _nextWakeAt)
            {
                _nextWakeAt += _options.MaxBatchPoints;
                wake = true;
            }
        }
        if (wake)
        {
            _wake.Release();
        }
        if (full > 0)
        {
            BufferFull(full);
        }
    }

    private void Append(string name, double value, long step, long timestamp)
    {
        if (_jobId is null)
        {
            Warnings.Once("not-a-job", NotAJobMessage);
            return;
        }
        bool wake = false, full = false;
        lock (_lock)
        {
            var buffer = _front;
            if (buffer.Count >= _options.MaxBufferedPoints)
            {
                full = true;
            }
            else
            {
                buffer.Add(name, value, step, timestamp);
                if (buffer.Count >= _nextWakeAt)
                {
                    _nextWakeAt += _options.MaxBatchPoints;
                    wake = true;
                }
            }
        }
        if (wake)
        {
            _wake.Release();
        }
        else if (full)
        {
            BufferFull(1);
        }
    }

    // ---- conditions ---------------------------------------------------------------------------------

    /// <summary>
    /// Asks the agent to notify when <paramref name="expression"/> holds, e.g. <c>"eval_loss - train_loss &gt; 0.2"</c>
    /// or <c>"[train loss] &lt; 0.1"</c>. The agent checks it now; it evaluates it on every batch.
    /// </summary>
    /// <param name="expression">An expression over scalar names.</param>
    /// <param name="onlyReported">Notifications for this condition show only its own scalars.</param>
    /// <param name="action">Notify (the default), or stop the job when the condition is met.</param>
    /// <exception cref="ArgumentException">The expression is empty, or the agent cannot parse it.</exception>
    /// <remarks>When the agent cannot be reached (or outside a job) the condition is kept and registered later.</remarks>
    public void AddCondition(string expression, bool onlyReported = false, ConditionAction action = ConditionAction.Notify)
    {
        var condition = ExpressionCondition(expression, onlyReported, action);
        if (TryRegisterNow(condition, (client, request, deadline) => client.AddCondition(request, deadline: deadline)))
        {
            Keep(condition);
        }
    }

    /// <inheritdoc cref="AddCondition(string, bool, ConditionAction)"/>
    public async Task AddConditionAsync(string expression, bool onlyReported = false, ConditionAction action = ConditionAction.Notify,
        CancellationToken cancellationToken = default)
    {
        var condition = ExpressionCondition(expression, onlyReported, action);
        var jobId = _jobId;
        if (jobId is null)
        {
            Warnings.Once("not-a-job", NotAJobMessage);
        }
        else
        {
            try
            {
                var reply = await Client.AddConditionAsync(RegistrationRequest(condition, jobId),
                    deadline: DateTime.UtcNow + _options.CallTimeout, cancellationToken: cancellationToken).ConfigureAwait(false);
                condition.Registered(jobId, reply.ConditionId);
            }
            catch (RpcException error) when (!ScalarPump.IsTransient(error.StatusCode))
            {
                throw Rejected(condition, error);
            }
            catch (RpcException)
            {
                // The pump registers it once the agent answers.
            }
        }
        Keep(condition);
    }

    /// <summary>
    /// Notifies when <paramref name="condition"/> holds for the latest value of scalar <paramref name="name"/>
    /// (1 until it is reported). It runs on the background pump after each batch that reports the scalar.
    /// </summary>
    /// <param name="name">The scalar the condition reads.</param>
    /// <param name="condition">A function of the latest value, e.g. <c>loss =&gt; loss &lt; 0.1</c>.</param>
    /// <param name="onlyReported">Notifications for this condition show only its own scalars.</param>
    /// <param name="action">Notify (the default), or stop the job when the condition is met.</param>
    /// <param name="description">Shown in notifications; by default the condition's source text.</param>
    public void AddCondition(string name, Func<double, bool> condition, bool onlyReported = false,
        ConditionAction action = ConditionAction.Notify, [CallerArgumentExpression(nameof(condition))] string? description = null)
    {
        ArgumentNullException.ThrowIfNull(condition);
        AddFunction([name], v => condition(v[0]), onlyReported, action, description);
    }

    /// <summary>Notifies when <paramref name="condition"/> holds for the latest values of two scalars (1 until reported).</summary>
    /// <inheritdoc cref="AddCondition(string, Func{double, bool}, bool, ConditionAction, string?)"/>
    public void AddCondition(string name1, string name2, Func<double, double, bool> condition, bool onlyReported = false,
        ConditionAction action = ConditionAction.Notify, [CallerArgumentExpression(nameof(condition))] string? description = null)
    {
        ArgumentNullException.ThrowIfNull(condition);
        AddFunction([name1, name2], v => condition(v[0], v[1]), onlyReported, action, description);
    }

    /// <summary>Notifies when <paramref name="condition"/> holds for the latest values of three scalars (1 until reported).</summary>
    /// <inheritdoc cref="AddCondition(string, Func{double, bool}, bool, ConditionAction, string?)"/>
    public void AddCondition(string name1, string name2, string name3, Func<double, double, double, bool> condition,
        bool onlyReported = false, ConditionAction action = ConditionAction.Notify,
        [CallerArgumentExpression(nameof(condition))] string? description = null)
    {
        ArgumentNullException.ThrowIfNull(condition);
        AddFunction([name1, name2, name3], v => condition(v[0], v[1], v[2]), onlyReported, action, description);
    }

    /// <summary>
    /// Notifies when <paramref name="condition"/> holds for the latest values of <paramref name="names"/>, passed
    /// in that order (1 for a scalar not reported yet):
    /// <c>AddCondition(["train loss", "eval loss"], v =&gt; Math.Abs(v[0] - v[1]) &gt; 0.2)</c>.
    /// </summary>
    /// <inheritdoc cref="AddCondition(string, Func{double, bool}, bool, ConditionAction, string?)"/>
    public void AddCondition(IReadOnlyList<string> names, Func<double[], bool> condition, bool onlyReported = false,
        ConditionAction action = ConditionAction.Notify, [CallerArgumentExpression(nameof(condition))] string? description = null)
    {
        ArgumentNullException.ThrowIfNull(names);
        ArgumentNullException.ThrowIfNull(condition);
        AddFunction([.. names], condition, onlyReported, action, description);
    }

    private void AddFunction(string[] names, Func<double[], bool> function, bool onlyReported, ConditionAction action, string? description)
    {
        if (names.Length == 0)
        {
            throw new ArgumentException("a condition needs at least one scalar name", nameof(names));
        }
        foreach (var name in names)
        {
            CheckName(name, nameof(names));
        }
        var text = string.IsNullOrWhiteSpace(description) ? string.Join(", ", names) + " condition" : description.Trim();
        if (_jobId is null)
        {
            Warnings.Once("not-a-job", NotAJobMessage);
        }
        // Registration happens on the pump: a function condition cannot be refused for its text.
        Keep(new Condition(names, function, expression: null, text, onlyReported, action));
        _wake.Release();
    }

    /// <summary>Refuses a name the agent would refuse (<see cref="ScalarName"/>), at the call, before anything is buffered.</summary>
    private static void CheckName(string name, string parameter)
    {
        ArgumentNullException.ThrowIfNull(name, parameter);
        if (ScalarName.Problem(name) is { } problem)
        {
            throw new ArgumentException(problem, parameter);
        }
    }

    private static Condition ExpressionCondition(string expression, bool onlyReported, ConditionAction action)
    {
        ArgumentNullException.ThrowIfNull(expression);
        if (string.IsNullOrWhiteSpace(expression))
        {
            throw new ArgumentException("the condition expression is empty", nameof(expression));
        }
        var text = expression.Trim();
        return new Condition([], function: null, text, text, onlyReported, action);
    }

    private bool TryRegisterNow(Condition condition,
        Func<ReportService.ReportServiceClient, AddConditionRequest, DateTime, AddConditionResponse> call)
    {
        var jobId = _jobId;
        if (jobId is null)
        {
            Warnings.Once("not-a-job", NotAJobMessage);
            return true;
        }
        try
        {
            var reply = call(Client, RegistrationRequest(condition, jobId), DateTime.UtcNow + _options.CallTimeout);
            condition.Registered(jobId, reply.ConditionId);
        }
        catch (RpcException error) when (!ScalarPump.IsTransient(error.StatusCode))
        {
            throw Rejected(condition, error);
        }
        catch (RpcException)
        {
            // The pump registers it once the agent answers.
        }
        return true;
    }

    private static ArgumentException Rejected(Condition condition, RpcException error)
    {
        condition.Rejected = true;
        return new ArgumentException(
            $"the agent rejected condition '{condition.Description}' ({error.StatusCode}): {error.Status.Detail}", "expression", error);
    }

    private void Keep(Condition condition)
    {
        lock (_lock)
        {
            _conditions.Add(condition);
        }
    }

    internal static AddConditionRequest RegistrationRequest(Condition condition, string jobId)
    {
        var request = new AddConditionRequest
        {
            JobId = jobId,
            Expression = condition.Expression ?? "",
            Description = condition.Description,
            EvaluatedByClient = condition.EvaluatedByClient,
            OnlyReported = condition.OnlyReported,
            Action = condition.Action == ConditionAction.Stop ? V1.ConditionAction.Stop : V1.ConditionAction.Notify,
        };
        request.Names.AddRange(condition.Names);
        return request;
    }

    // ---- notifications and flushing -------------------------------------------------------------------

    /// <summary>
    /// Sends a custom notification, after the scalars reported before it, and waits for one delivery attempt.
    /// </summary>
    /// <returns>True when the agent has it; false outside a job, or when the agent did not answer (it stays queued and is retried).</returns>
    /// <exception cref="ArgumentException">The message is empty or longer than 4,000 characters.</exception>
    public Task<bool> NotifyAsync(string message, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(message);
        if (message.Length > MaxNotificationLength)
        {
            throw new ArgumentException($"a notification is at most {MaxNotificationLength} characters", nameof(message));
        }
        var jobId = _jobId;
        if (jobId is null)
        {
            Warnings.Once("not-a-job", NotAJobMessage);
            return Task.FromResult(false);
        }
        lock (_lock)
        {
            _events.Add(new OutboxItem.Notification(jobId, message));
        }
        return FlushAsync(cancellationToken);
    }

    /// <summary>
    /// Sends everything reported before the call and waits for that attempt.
    /// </summary>
    /// <returns>
    /// True when nothing is left waiting for the agent; false when it could not be reached (the data stays
    /// buffered and is retried) or the reporter is disposed.
    /// </returns>
    public Task<bool> FlushAsync(CancellationToken cancellationToken = default)
    {
        var waiter = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            if (_closing)
            {
                return Task.FromResult(false); // disposed: the pump takes no more requests
            }
            _flushWaiters.Add(waiter);
        }
        _wake.Release();
        return waiter.Task.WaitAsync(cancellationToken);
    }

    /// <summary>Flushes, retrying an unreachable agent until <paramref name="timeout"/>.</summary>
    internal async Task<bool> FlushUntilAsync(TimeSpan timeout)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        var delay = TimeSpan.FromMilliseconds(100);
        while (true)
        {
            if (await FlushAsync().ConfigureAwait(false))
            {
                return true;
            }
            if (Volatile.Read(ref _closing))
            {
                return false;
            }
            var left = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), deadline);
            if (left <= TimeSpan.Zero)
            {
                return false;
            }
            await Task.Delay(left < delay ? left : delay).ConfigureAwait(false);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(1).Ticks));
        }
    }

    /// <summary>Scalars reported from now on belong to <paramref name="jobId"/> (null: not a job).</summary>
    internal void SetJob(string? jobId)
    {
        _jobId = jobId;
        _wake.Release();
    }

    // ---- the pump's side ------------------------------------------------------------------------------

    /// <summary>What the pump takes at the start of a cycle. Events are taken before points so that a notification follows the scalars reported before it.</summary>
    internal (List<OutboxItem> Events, PointBuffer Points, string? JobId, Condition[] Conditions, List<TaskCompletionSource<bool>> Waiters, bool Closing) Take()
    {
        lock (_lock)
        {
            var events = _events;
            _events = [];
            var points = _front;
            _front = _spare;
            _spare = null!;
            _nextWakeAt = _options.MaxBatchPoints;
            var waiters = _flushWaiters;
            _flushWaiters = [];
            return (events, points, _jobId, [.. _conditions], waiters, _closing);
        }
    }

    /// <summary>The pump hands the drained buffer back for reuse.</summary>
    internal void Recycle(PointBuffer buffer)
    {
        buffer.Reset();
        lock (_lock)
        {
            _spare = buffer;
        }
    }

    internal void BufferFull(long points)
    {
        Interlocked.Add(ref _droppedPoints, points);
        if (!_bufferFull)
        {
            _bufferFull = true;
            Warnings.Once("buffer-full",
                $"more than {_options.MaxBufferedPoints:N0} scalars are waiting for the agent; dropping scalars until it catches up");
        }
    }

    private async Task PumpAsync()
    {
        while (true)
        {
            await _wake.WaitAsync(_options.SendInterval).ConfigureAwait(false);
            while (_wake.CurrentCount > 0 && _wake.Wait(0))
            {
                // Several wake-ups while a cycle ran mean one more cycle.
            }
            var work = Take();
            bool ok;
            try
            {
                ok = await _pump.CycleAsync(work.Events, work.Points, work.JobId, work.Conditions,
                    force: work.Waiters.Count > 0 || work.Closing).ConfigureAwait(false);
            }
            catch (Exception error)
            {
                // A bug here must not end reporting silently.
                Warnings.Once("internal-" + error.GetType().Name, $"internal error in the reporter pump: {error}");
                ok = false;
            }
            finally
            {
                Recycle(work.Points);
            }
            foreach (var waiter in work.Waiters)
            {
                waiter.TrySetResult(ok);
            }
            if (work.Closing)
            {
                if (!ok && Volatile.Read(ref _spillAtClose))
                {
                    _spilled = _pump.Spill();
                }
                return;
            }
        }
    }

    // ---- lifetime -------------------------------------------------------------------------------------

    private void OnProcessExit(object? sender, EventArgs e)
    {
        try
        {
            FlushOnExitAsync().GetAwaiter().GetResult();
        }
        catch (Exception)
        {
            // Nothing may escape a process-exit handler.
        }
    }

    private async Task FlushOnExitAsync()
    {
        if (Volatile.Read(ref _disposed) == 0 && !await FlushUntilAsync(_options.ShutdownTimeout).ConfigureAwait(false))
        {
            await CloseAndSpillAsync().ConfigureAwait(false);
            WarnLost();
        }
    }

    /// <summary>One last try by the pump, then what is left goes to the job folder; the pump has ended after this.</summary>
    private async Task CloseAndSpillAsync()
    {
        lock (_lock)
        {
            _closing = true;
            _spillAtClose = true;
        }
        _wake.Release();
        try
        {
            await _pumpTask.WaitAsync(TimeSpan.FromSeconds(20)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            return; // the pump is stuck in a call: what it holds is reported as lost
        }
        if (_spilled is { } spilled)
        {
            Warnings.Once("spilled-at-exit", $"the agent was not reachable at exit; {spilled.Points:N0} scalars were written to " +
                $"{spilled.Path}, and the agent stores them when it records the job's end");
        }
    }

    private void WarnLost()
    {
        var left = _pump.PendingPoints;
        if (left > 0 || _pump.PendingEvents > 0)
        {
            Warnings.Once("lost-at-exit", $"{left:N0} scalars and {_pump.PendingEvents} notifications could not be sent to the agent at {_options.Where}");
        }
    }

    /// <summary>
    /// Sends what is buffered (retrying an unreachable agent for up to <see cref="ScalarReporterOptions.ShutdownTimeout"/>),
    /// stops the pump and closes the connection.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        AppDomain.CurrentDomain.ProcessExit -= OnProcessExit;
        if (!await FlushUntilAsync(_options.ShutdownTimeout).ConfigureAwait(false))
        {
            await CloseAndSpillAsync().ConfigureAwait(false);
            WarnLost();
        }
        lock (_lock)
        {
            _closing = true;
        }
        _wake.Release();
        await _pumpTask.ConfigureAwait(false);
        _channel.Dispose();
        _wake.Dispose();
    }
}
