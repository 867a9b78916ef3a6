using Google.Protobuf.WellKnownTypes;
using Meeshkan.Agent.Config;
using Meeshkan.Agent.Jobs;
using Meeshkan.Agent.Store;
using Meeshkan.V1;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Meeshkan.Agent.Conditions;

/// <summary>
/// Keeps jobs' conditions, evaluates them as scalars arrive, and records firings: at most one per condition per
/// cooldown, each stored in condition_events and told to every <see cref="IAgentObserver"/>. Conditions live in
/// SQLite and are loaded per job on first use, so they survive an agent restart.
/// </summary>
public sealed partial class ConditionEngine(
    ConditionStore store, ScalarStore scalars, AgentConfig config, IEnumerable<IAgentObserver> observers,
    TimeProvider time, ILogger<ConditionEngine> logger)
{
    /// <summary>Conditions one job may register.</summary>
    public const int MaxConditionsPerJob = 1000;

    /// <summary>Longest description kept; longer ones are cut.</summary>
    public const int MaxDescriptionLength = 2000;

    /// <summary>Shortest cooldown, whatever the settings: one condition never fires more than once a second.</summary>
    public static readonly TimeSpan MinimumCooldown = TimeSpan.FromSeconds(1);

    private readonly Lock _jobsGate = new();
    private readonly Dictionary<long, JobConditions> _jobs = new();
    private readonly JobObservers _observers = new(observers, logger);

    /// <summary>
    /// Registers a condition for a running job: an expression the agent evaluates, or (evaluated_by_client) one the
    /// client evaluates and reports with <see cref="RecordClientFiring"/>.
    /// </summary>
    /// <returns>The condition's id and the scalar names it reads (derived from the expression when not given).</returns>
    /// <exception cref="InvalidRequestException">The request is wrong, with the reason.</exception>
    /// <exception cref="LimitReachedException">Past <see cref="MaxConditionsPerJob"/>.</exception>
    public (string Id, IReadOnlyList<string> Names) Add(JobRecord job, AddConditionRequest request)
    {
        if (request.CooldownSeconds < 0)
        {
            throw Invalid("cooldown_seconds must not be negative; 0 means the agent's default");
        }
        var names = new List<string>();
        foreach (var name in request.Names)
        {
            if (ScalarName.Problem(name) is { } problem)
            {
                throw Invalid($"condition names: {problem}");
            }
            if (!names.Contains(name))
            {
                names.Add(name);
            }
        }
        ConditionExpression? expression = null;
        if (request.EvaluatedByClient)
        {
            if (names.Count == 0)
            {
                throw Invalid("a condition the client evaluates needs the names of the scalars it reads");
            }
        }
        else
        {
            try
            {
                expression = ConditionExpression.Parse(request.Expression);
            }
            catch (ConditionExpressionException e)
            {
                throw Invalid(e.Message);
            }
            // Names given with an expression come first; the expression's own are always watched.
            names.AddRange(expression.Names.Where(n => !names.Contains(n)));
        }
        var description = request.Description.Trim() is { Length: > 0 } given
            ? (given.Length <= MaxDescriptionLength ? given : given[..MaxDescriptionLength] + "…")
            : expression?.Text ?? $"condition on {string.Join(", ", names)}";
        var cooldownSeconds = request.CooldownSeconds > 0 ? request.CooldownSeconds : config.ConditionCooldownSeconds;
        var condition = new Condition
        {
            Id = Guid.NewGuid().ToString(), Names = names, Description = description, Expression = expression,
            OnlyReported = request.OnlyReported, Cooldown = CooldownOf(cooldownSeconds), Stops = request.Action == ConditionAction.Stop,
        };

        var state = Job(job.Number, batch: null);
        lock (state.Gate)
        {
            if (state.ById.Count >= MaxConditionsPerJob)
            {
                throw new LimitReachedException($"job {job.Number} already has {MaxConditionsPerJob} conditions, the most one job may have");
            }
            if (expression is not null)
            {
                var known = names.All(state.Slots.ContainsKey);
                Prepare(state, condition, known ? null : LatestValues(job.Number, batch: null));
            }
            store.Insert(new ConditionStore.StoredCondition(
                condition.Id, job.Number, expression?.Text, names, description, request.EvaluatedByClient,
                request.OnlyReported, cooldownSeconds, LastFiredAt: null, condition.Stops));
            state.Add(condition);
        }
        return (condition.Id, names);
    }

    /// <summary>
    /// Evaluates the job's agent-evaluated conditions that read any of a just-stored batch's scalars, at each of their
    /// points (series merged by wall time), with the latest values of the others. Never throws for a condition.
    /// </summary>
    public void Evaluate(JobRecord job, IReadOnlyList<ScalarStore.Series> series)
    {
        if (series.Count == 0)
        {
            return;
        }
        var state = Job(job.Number, series);
        List<(Condition Condition, ConditionEvent Event)>? fired;
        lock (state.Gate)
        {
            if (state.Slots.Count == 0)
            {
                return;
            }
            fired = EvaluateLocked(job, state, series);
        }
        foreach (var (condition, evt) in fired ?? [])
        {
            Notify(job, condition, evt);
        }
    }

    /// <summary>Records that the client found its condition met, unless the condition is in its cooldown.</summary>
    /// <returns>False when the cooldown suppressed the firing.</returns>
    /// <exception cref="NotFoundException">An id this job does not have.</exception>
    /// <exception cref="NotAllowedException">An agent-evaluated condition.</exception>
    public bool RecordClientFiring(JobRecord job, string conditionId, IDictionary<string, double> values)
    {
        var state = Job(job.Number, batch: null);
        Condition? condition;
        ConditionEvent evt;
        lock (state.Gate)
        {
            if (!state.ById.TryGetValue(conditionId ?? "", out condition))
            {
                throw new NotFoundException($"job {job.Number} has no condition with id '{Printable(conditionId)}'; register it with AddCondition first");
            }
            if (!condition.EvaluatedByClient)
            {
                throw new NotAllowedException($"condition {condition.Id} is evaluated by the agent; only client-evaluated conditions are reported met");
            }
            if (values.Count > MaxConditionsPerJob)
            {
                throw Invalid($"a firing reports {values.Count} values; report at most {MaxConditionsPerJob}");
            }
            foreach (var name in values.Keys)
            {
                if (ScalarName.Problem(name) is { } problem)
                {
                    throw Invalid($"condition values: {problem}");
                }
            }
            var now = Now();
            if (condition.InCooldown(now))
            {
                return false;
            }
            evt = Record(job.Number, condition, now, new Dictionary<string, double>(values, StringComparer.Ordinal));
        }
        Notify(job, condition, evt);
        return true;
    }

    /// <summary>How many jobs' conditions are held in memory (those of jobs that have not ended, once used).</summary>
    public int CachedJobs
    {
        get
        {
            lock (_jobsGate)
            {
                return _jobs.Count;
            }
        }
    }

    /// <summary>Drops what is cached for a job (for an ended one); it is loaded again from SQLite when needed.</summary>
    public void Forget(long jobNumber)
    {
        lock (_jobsGate)
        {
            _jobs.Remove(jobNumber);
        }
    }

    private List<(Condition, ConditionEvent)>? EvaluateLocked(JobRecord job, JobConditions state, IReadOnlyList<ScalarStore.Series> series)
    {
        var now = Now();
        var values = state.Values;
        // The series some condition out of its cooldown reads, with those conditions.
        var live = new List<(ScalarStore.Series Series, int Slot, Condition[] Watchers)>();
        var pending = new HashSet<Condition>();
        foreach (var s in series)
        {
            if (s.Values.Length == 0 || !state.Slots.TryGetValue(s.Name, out var slot))
            {
                continue;
            }
            var watchers = state.ReadersOf(slot).Where(c => !c.InCooldown(now)).ToArray();
            if (watchers.Length == 0)
            {
                values[slot] = s.Values[^1];
                continue;
            }
            live.Add((s, slot, watchers));
            pending.UnionWith(watchers);
        }
        if (live.Count == 0)
        {
            return null;
        }

        List<(Condition, ConditionEvent)>? fired = null;
        var cursor = new int[live.Count];
        var touched = new HashSet<Condition>();
        while (pending.Count > 0)
        {
            // The next point in wall time; on a tie, the series that came first.
            var k = -1;
            var earliest = long.MaxValue;
            for (var i = 0; i < live.Count; i++)
            {
                var at = cursor[i];
                if (at < live[i].Series.Values.Length && (k < 0 || live[i].Series.WallTimesUs[at] < earliest))
                {
                    k = i;
                    earliest = live[i].Series.WallTimesUs[at];
                }
            }
            if (k < 0)
            {
                break;
            }
            // Points of different scalars with the same wall time were reported together (one
            // report_scalar call with several pairs): apply them all, then evaluate once.
            touched.Clear();
            for (var i = k; i < live.Count; i++)
            {
                var (current, slot, readers) = live[i];
                if (cursor[i] < current.Values.Length && current.WallTimesUs[cursor[i]] == earliest)
                {
                    values[slot] = current.Values[cursor[i]++];
                    touched.UnionWith(readers);
                }
            }
            foreach (var condition in touched)
            {
                if (condition.InCooldown(now) || !IsMet(job, condition, values))
                {
                    continue;
                }
                var snapshot = new Dictionary<string, double>(condition.Names.Count, StringComparer.Ordinal);
                for (var n = 0; n < condition.Names.Count; n++)
                {
                    snapshot[condition.Names[n]] = values[condition.Slots[n]];
                }
                (fired ??= []).Add((condition, Record(job.Number, condition, now, snapshot)));
                pending.Remove(condition);
            }
        }
        // Every condition fired before the batch's end: the rest only moves the latest values.
        foreach (var (s, slot, _) in live)
        {
            values[slot] = s.Values[^1];
        }
        return fired;
    }

    private bool IsMet(JobRecord job, Condition condition, double[] values)
    {
        try
        {
            return condition.IsMet!(values);
        }
        catch (Exception e)
        {
            if (!condition.FailureLogged)
            {
                condition.FailureLogged = true;
                Log.EvaluationFailed(logger, condition.Id, job.Number, e);
            }
            return false;
        }
    }

    /// <summary>Starts the cooldown and stores the firing. A storage failure is logged: the firing is still told.</summary>
    private ConditionEvent Record(long jobNumber, Condition condition, DateTimeOffset now, Dictionary<string, double> values)
    {
        condition.LastFiredAt = now;
        try
        {
            store.RecordFiring(condition.Id, jobNumber, now, values);
        }
        catch (SqliteException e)
        {
            Log.RecordFailed(logger, condition.Id, jobNumber, e);
        }
        var evt = new ConditionEvent
        {
            ConditionId = condition.Id, Description = condition.Description, Time = Timestamp.FromDateTimeOffset(now),
            Action = condition.Stops ? ConditionAction.Stop : ConditionAction.Notify,
        };
        evt.Values.Add(values);
        return evt;
    }

    private void Notify(JobRecord job, Condition condition, ConditionEvent evt)
    {
        Log.Fired(logger, condition.Id, job.Number, condition.Description);
        _observers.ConditionMet(job, evt, condition.OnlyReported);
    }

    /// <summary>A job's conditions, loaded from SQLite on first use.</summary>
    private JobConditions Job(long jobNumber, IReadOnlyList<ScalarStore.Series>? batch)
    {
        lock (_jobsGate)
        {
            if (!_jobs.TryGetValue(jobNumber, out var state))
            {
                state = Load(jobNumber, batch);
                _jobs[jobNumber] = state;
            }
            return state;
        }
    }

    private JobConditions Load(long jobNumber, IReadOnlyList<ScalarStore.Series>? batch)
    {
        var state = new JobConditions();
        Dictionary<string, double>? latest = null;
        foreach (var row in store.ForJob(jobNumber))
        {
            ConditionExpression? expression = null;
            if (!row.EvaluatedByClient)
            {
                try
                {
                    expression = ConditionExpression.Parse(row.Expression ?? "");
                }
                catch (ConditionExpressionException e)
                {
                    Log.Unloadable(logger, row.Id, jobNumber, e.Message);
                    continue;
                }
            }
            var condition = new Condition
            {
                Id = row.Id, Names = row.Names, Description = row.Description, Expression = expression,
                OnlyReported = row.OnlyReported, Cooldown = CooldownOf(row.CooldownSeconds), LastFiredAt = row.LastFiredAt,
                Stops = row.Stops,
            };
            if (expression is not null)
            {
                latest ??= LatestValues(jobNumber, batch);
                Prepare(state, condition, latest);
            }
            state.Add(condition);
        }
        return state;
    }

    /// <summary>Gives an agent-evaluated condition's names their slots and compiles it over them.</summary>
    private static void Prepare(JobConditions state, Condition condition, IReadOnlyDictionary<string, double>? latest)
    {
        foreach (var name in condition.Names)
        {
            state.EnsureSlot(name, latest is not null && latest.TryGetValue(name, out var value) ? value : null);
        }
        condition.Slots = condition.Names.Select(state.SlotOf).ToArray();
        condition.IsMet = condition.Expression!.Compile(state.SlotOf);
    }

    /// <summary>
    /// The job's latest stored values. When loading while a batch is evaluated, that batch is already stored: its
    /// scalars start from their first value in the batch instead of their last.
    /// </summary>
    private Dictionary<string, double> LatestValues(long jobNumber, IReadOnlyList<ScalarStore.Series>? batch)
    {
        var latest = scalars.Latest(jobNumber).ToDictionary(s => s.Name, s => s.Value, StringComparer.Ordinal);
        foreach (var s in batch ?? [])
        {
            if (s.Values.Length > 0)
            {
                latest[s.Name] = s.Values[0];
            }
        }
        return latest;
    }

    // Stored times have millisecond precision: keep the same in memory, so a restart changes nothing.
    private DateTimeOffset Now() => DateTimeOffset.FromUnixTimeMilliseconds(time.GetUtcNow().ToUnixTimeMilliseconds());

    private static TimeSpan CooldownOf(int seconds) => TimeSpan.FromSeconds(Math.Max(seconds, MinimumCooldown.TotalSeconds));

    private static string Printable(string? id) =>
        id is null ? "" : new string(id.Take(64).Select(c => char.IsControl(c) ? '?' : c).ToArray());

    private static InvalidRequestException Invalid(string message) => new(message);

    private static partial class Log
    {
        [LoggerMessage(201, LogLevel.Information, "Condition {ConditionId} of job {Number} met: {Description}")]
        public static partial void Fired(ILogger logger, string conditionId, long number, string description);

        [LoggerMessage(202, LogLevel.Warning, "Condition {ConditionId} of job {Number} could not be evaluated; taken as not met (logged once)")]
        public static partial void EvaluationFailed(ILogger logger, string conditionId, long number, Exception exception);

        [LoggerMessage(203, LogLevel.Error, "Condition {ConditionId} of job {Number} fired but the firing could not be stored")]
        public static partial void RecordFailed(ILogger logger, string conditionId, long number, Exception exception);

        [LoggerMessage(204, LogLevel.Warning, "Condition {ConditionId} of job {Number} is no longer valid and is skipped: {Reason}")]
        public static partial void Unloadable(ILogger logger, string conditionId, long number, string reason);
    }
}
