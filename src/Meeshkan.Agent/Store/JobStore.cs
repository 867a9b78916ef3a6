using System.Text.Json;
using Meeshkan.Agent.Jobs;
using Microsoft.Data.Sqlite;

namespace Meeshkan.Agent.Store;

/// <summary>Jobs and their state changes in SQLite.</summary>
public sealed class JobStore(Database database, TimeProvider time)
{
    // Ended jobs as `List` last read them: their rows never change again (only `clear` deletes them), so listing
    // 10,000 jobs reads two columns of each and the full row of the few that are new or still queued or running.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<long, JobRecord> _ended = new();

    private const string Columns =
        "number, id, name, state, command, working_directory, environment, report_interval, created_at, started_at, " +
        "finished_at, exit_code, failure_reason, external, pid, output_directory, executor, executor_ref, executor_state, " +
        "priority, gpu_quarters, gpu_ids, gpus, slot, scalar_pattern, " + PipelineColumns;

    // The submitter's environment (often kilobytes of JSON) is read only to start a job, through StartableFrom: every
    // other query returns Environment = null, so that `list` over 10,000 jobs does not parse 10,000 environments.
    private const string ColumnsWithoutEnvironment =
        "number, id, name, state, command, working_directory, NULL, report_interval, created_at, started_at, " +
        "finished_at, exit_code, failure_reason, external, pid, output_directory, executor, executor_ref, executor_state, " +
        "priority, gpu_quarters, gpu_ids, gpus, slot, scalar_pattern, " + PipelineColumns;

    private const string PipelineColumns = "after_jobs, after_any_jobs, timeout_seconds, retries, retry_delay_seconds, stop_if, attempt, retry_at";

    /// <summary>A job about to be queued; the store gives it its number and output folder.</summary>
    public sealed record NewJob(string Name, IReadOnlyList<string> Command, string WorkingDirectory,
        IReadOnlyDictionary<string, string>? Environment, int ReportIntervalSeconds, bool External = false, int? Pid = null,
        string? Executor = null)
    {
        public int Priority { get; init; }
        public int GpuQuarters { get; init; }
        public IReadOnlyList<int>? GpuIds { get; init; }
        /// <summary>Read scalars from its output (submit --scalars-from-output): "" with the default patterns, or the user's; null: not.</summary>
        public string? ScalarPattern { get; init; }
        public IReadOnlyList<long> After { get; init; } = [];
        public IReadOnlyList<long> AfterAny { get; init; } = [];
        public long TimeoutSeconds { get; init; }
        public int Retries { get; init; }
        public long RetryDelaySeconds { get; init; }
        public string? StopIf { get; init; }

        /// <summary>The same job queued again (`meeshkan retry`): its command, folder, environment, name and options, on the same executor.</summary>
        public static NewJob Again(JobRecord job) =>
            new(job.Name, job.Command, job.WorkingDirectory, job.Environment, job.ReportIntervalSeconds, Executor: job.Executor)
            {
                Priority = job.Priority,
                GpuQuarters = job.GpuQuarters,
                GpuIds = job.GpuIds,
                ScalarPattern = job.ScalarPattern,
                TimeoutSeconds = job.TimeoutSeconds,
                Retries = job.Retries,
                RetryDelaySeconds = job.RetryDelaySeconds,
                StopIf = job.StopIf,
            };
    }

    /// <summary>Inserts jobs in one transaction, in order. <paramref name="outputFolder"/> maps a number to its folder.</summary>
    public IReadOnlyList<JobRecord> Insert(IReadOnlyList<NewJob> jobs, Func<long, string> outputFolder, JobState state = JobState.Queued)
    {
        if (!JobTransitions.Initial.Contains(state))
        {
            throw new ArgumentException($"a job is not created {state}", nameof(state));
        }
        var now = time.GetUtcNow();
        using var connection = database.OpenToWrite();
        using var transaction = connection.BeginTransaction();
        var insert = connection.Prepared(
            "INSERT INTO jobs (id, name, state, command, working_directory, environment, report_interval, created_at, started_at, external, pid, output_directory, priority, gpu_quarters, gpu_ids, scalar_pattern, " +
            "after_jobs, after_any_jobs, timeout_seconds, retries, retry_delay_seconds, stop_if, executor) " +
            "VALUES ($id, $name, $state, $command, $cwd, $env, $interval, $created, $started, $external, $pid, '', $priority, $quarters, $gpuIds, $pattern, " +
            "$after, $afterAny, $timeout, $retries, $delay, $stopIf, $executor) RETURNING number", transaction);
        var p = AddParameters(insert, "$id", "$name", "$state", "$command", "$cwd", "$env", "$interval", "$created", "$started", "$external", "$pid", "$priority", "$quarters", "$gpuIds", "$pattern",
            "$after", "$afterAny", "$timeout", "$retries", "$delay", "$stopIf", "$executor");
        var setFolder = connection.Prepared("UPDATE jobs SET output_directory = $dir WHERE number = $number", transaction);
        var f = AddParameters(setFolder, "$dir", "$number");
        var records = new List<JobRecord>(jobs.Count);
        foreach (var job in jobs)
        {
            var id = Guid.NewGuid().ToString();
            p[0].Value = id;
            p[1].Value = job.Name;
            p[2].Value = StateCode(state);
            p[3].Value = JsonSerializer.Serialize(job.Command, AgentJson.Default.IReadOnlyListString);
            p[4].Value = job.WorkingDirectory;
            p[5].Value = job.Environment is null ? DBNull.Value : JsonSerializer.Serialize(job.Environment, AgentJson.Default.IReadOnlyDictionaryStringString);
            p[6].Value = job.ReportIntervalSeconds;
            p[7].Value = now.ToUnixTimeMilliseconds();
            p[8].Value = state == JobState.Running ? now.ToUnixTimeMilliseconds() : DBNull.Value;
            p[9].Value = job.External ? 1 : 0;
            p[10].Value = job.Pid is { } pid ? pid : DBNull.Value;
            p[11].Value = job.Priority;
            p[12].Value = job.GpuQuarters;
            p[13].Value = (object?)Ints(job.GpuIds) ?? DBNull.Value;
            p[14].Value = (object?)job.ScalarPattern ?? DBNull.Value;
            p[15].Value = (object?)Longs(job.After) ?? DBNull.Value;
            p[16].Value = (object?)Longs(job.AfterAny) ?? DBNull.Value;
            p[17].Value = job.TimeoutSeconds;
            p[18].Value = job.Retries;
            p[19].Value = job.RetryDelaySeconds;
            p[20].Value = (object?)job.StopIf ?? DBNull.Value;
            p[21].Value = job.Executor is { } executor ? executor : DBNull.Value;
            var number = (long)insert.ExecuteScalar()!;
            var folder = outputFolder(number);
            f[0].Value = folder;
            f[1].Value = number;
            setFolder.ExecuteNonQuery();
            records.Add(new JobRecord
            {
                Number = number, Id = id, Name = job.Name, State = state, Command = job.Command,
                WorkingDirectory = job.WorkingDirectory, Environment = job.Environment,
                ReportIntervalSeconds = job.ReportIntervalSeconds, CreatedAt = FromMs(now.ToUnixTimeMilliseconds()),
                StartedAt = state == JobState.Running ? FromMs(now.ToUnixTimeMilliseconds()) : null,
                External = job.External, Pid = job.Pid, OutputDirectory = folder, Executor = job.Executor,
                Priority = job.Priority, GpuQuarters = job.GpuQuarters, GpuIds = job.GpuIds, ScalarPattern = job.ScalarPattern,
                After = job.After, AfterAny = job.AfterAny, TimeoutSeconds = job.TimeoutSeconds, Retries = job.Retries,
                RetryDelaySeconds = job.RetryDelaySeconds, StopIf = job.StopIf,
            });
        }
        transaction.Commit();
        return records;
    }

    public JobRecord? GetById(string id) => QueryOne("WHERE id = $v", id);

    public JobRecord? GetByNumber(long number) => QueryOne("WHERE number = $v", number);

    /// <summary>The job with its submitter's environment (to queue it again: `meeshkan retry`).</summary>
    public JobRecord? GetWithEnvironment(long number) => QueryOne("WHERE number = $v", number, Columns);

    /// <summary>The first job (lowest number) whose name matches a SQLite GLOB pattern.</summary>
    public JobRecord? FirstByNameGlob(string pattern) => QueryOne("WHERE name GLOB $v ORDER BY number LIMIT 1", pattern);

    /// <summary>The oldest <paramref name="limit"/> queued jobs, with their environment: the next to run.</summary>
    public IReadOnlyList<JobRecord> Queued(int limit)
    {
        using var connection = database.Open();
        using var command = connection.CreateCommand();
        // Jobs for an executor that takes no slot (Slurm: chosen at submit) are not in this queue: see QueuedOn.
        command.CommandText = $"SELECT {Columns} FROM jobs WHERE state = {StateCode(JobState.Queued)} AND (executor IS NULL OR executor = 'local') " +
            $"ORDER BY number LIMIT {limit}";
        return Read(command);
    }

    /// <summary>The jobs submitted to this executor (<c>submit --on slurm</c>) waiting to start (queued, or between attempts), oldest first.</summary>
    public IReadOnlyList<JobRecord> QueuedOn(string executor)
    {
        using var connection = database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {Columns} FROM jobs WHERE {Startable} AND executor = $e ORDER BY number";
        command.Parameters.AddWithValue("$e", executor);
        return Read(command);
    }

    /// <summary>
    /// Jobs that may start (queued, or between attempts) from number <paramref name="number"/> on, oldest first, at most
    /// <paramref name="count"/>, with their environments (to start them): the first is that job itself unless it can no
    /// longer start, the others are what the run loop will most likely start next, in the same read.
    /// </summary>
    public IReadOnlyList<JobRecord> StartableFrom(long number, int count)
    {
        using var connection = database.OpenToRead();
        // Each kind through jobs_by_state in number order, stopping at the count: with "WHERE startable ORDER BY number"
        // SQLite read every queued row, environment and all, and sorted them, to keep eight (a fifth of the run loop's
        // time with 2,000 queued). The count is written into the statement: a LIMIT bound as a parameter makes SQLite
        // compile the statement again at every new value.
        var limit = count.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var command = connection.Prepared(
            $"SELECT {Columns} FROM jobs WHERE number IN (" +
            $"SELECT number FROM (SELECT number FROM jobs WHERE {IsQueued} AND number >= $v ORDER BY number LIMIT {limit}) UNION ALL " +
            $"SELECT number FROM (SELECT number FROM jobs WHERE {IsBetweenAttempts} AND number >= $v ORDER BY number LIMIT {limit})) " +
            $"ORDER BY number LIMIT {limit}");
        command.Parameters.AddWithValue("$v", number);
        return Read(command);
    }

    // What the run loop may start: a queued job, or a running one between its attempts (a retry after a failed attempt).
    private static readonly string IsQueued = $"state = {StateCode(JobState.Queued)}";
    private static readonly string IsBetweenAttempts = $"state = {StateCode(JobState.Running)} AND retry_at IS NOT NULL";
    private static readonly string Startable = $"({IsQueued} OR ({IsBetweenAttempts}))";

    /// <summary>What the scheduling policy needs of a queued job.</summary>
    public sealed record WaitingRow(long Number, int Priority, int GpuQuarters, IReadOnlyList<int>? GpuIds, DateTimeOffset CreatedAt,
        IReadOnlyList<long> After, IReadOnlyList<long> AfterAny, DateTimeOffset? RetryAt);

    /// <summary>What the scheduling policy needs of every queued job (and job between attempts) numbered above <paramref name="after"/>, oldest first.</summary>
    public IReadOnlyList<WaitingRow> Waiting(long after = 0)
    {
        using var connection = database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT number, priority, gpu_quarters, gpu_ids, created_at, after_jobs, after_any_jobs, retry_at " +
            $"FROM jobs WHERE {Startable} AND number > $after AND (executor IS NULL OR executor = 'local') ORDER BY number";
        command.Parameters.AddWithValue("$after", after);
        using var reader = command.ExecuteReader();
        var jobs = new List<WaitingRow>();
        while (reader.Read())
        {
            jobs.Add(new WaitingRow(reader.GetInt64(0), reader.GetInt32(1), reader.GetInt32(2), reader.IsDBNull(3) ? null : ParseInts(reader.GetString(3)),
                FromMs(reader.GetInt64(4)), reader.IsDBNull(5) ? [] : ParseLongs(reader.GetString(5)),
                reader.IsDBNull(6) ? [] : ParseLongs(reader.GetString(6)), reader.IsDBNull(7) ? null : FromMs(reader.GetInt64(7))));
        }
        return jobs;
    }

    /// <summary>Jobs, oldest first; only the given states when any; the latest <paramref name="limit"/> when positive.</summary>
    public IReadOnlyList<JobRecord> List(IReadOnlyCollection<JobState>? states = null, int limit = 0)
    {
        var where = states is { Count: > 0 } ? $"WHERE state IN ({Codes(states)})" : "";
        var sql = limit > 0
            ? $"SELECT * FROM (SELECT number, state FROM jobs {where} ORDER BY number DESC LIMIT {limit}) ORDER BY number"
            : $"SELECT number, state FROM jobs {where} ORDER BY number";
        using var connection = database.Open();
        var listed = new List<(long Number, bool Ended)>();
        using (var index = connection.CreateCommand())
        {
            index.CommandText = sql;
            using var reader = index.ExecuteReader();
            while (reader.Read())
            {
                listed.Add((reader.GetInt64(0), JobTransitions.IsEnd(StateOf(reader.GetInt32(1)))));
            }
        }
        // Only the rows not read before as ended are read in full: an ended job's row never changes again.
        var fresh = new Dictionary<long, JobRecord>();
        foreach (var chunk in listed.Where(j => !(j.Ended && _ended.ContainsKey(j.Number))).Select(j => j.Number).Chunk(500))
        {
            using var command = connection.CreateCommand();
            command.CommandText = $"SELECT {ColumnsWithoutEnvironment} FROM jobs WHERE number IN ({string.Join(',', chunk)})";
            foreach (var job in Read(command))
            {
                fresh[job.Number] = job;
                if (job.IsEnded)
                {
                    _ended[job.Number] = job;
                }
            }
        }
        var jobs = new List<JobRecord>(listed.Count);
        foreach (var (number, _) in listed)
        {
            // A row deleted between the two reads (by `clear`) is left out.
            if (fresh.TryGetValue(number, out var job) || _ended.TryGetValue(number, out job))
            {
                jobs.Add(job);
            }
        }
        return jobs;
    }

    public IReadOnlyDictionary<JobState, long> CountByState()
    {
        using var connection = database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT state, COUNT(*) FROM jobs GROUP BY state";
        using var reader = command.ExecuteReader();
        var counts = new Dictionary<JobState, long>();
        while (reader.Read())
        {
            counts[StateOf(reader.GetInt32(0))] = reader.GetInt64(1);
        }
        return counts;
    }

    /// <summary>QUEUED → RUNNING with the executor's reference: the job as it now is, or null when it is no longer queued (canceled meanwhile).</summary>
    public JobRecord? MarkRunning(JobRecord job, string executor, string reference, int? pid, IReadOnlyList<int>? gpus = null, int? slot = null,
        DateTimeOffset? startedAt = null) =>
        StartAttempt(StartsFromQueued, job, executor, reference, pid, gpus, slot, startedAt);

    private static readonly string StartsFromQueued = $"state IN ({Codes(JobTransitions.From(JobState.Running))})";

    /// <summary>
    /// One attempt of a job started: RUNNING with its executor's reference, the attempt counted and the last attempt's end
    /// cleared. <paramref name="from"/> says which jobs may start it. <paramref name="job"/> is the row as the caller
    /// read it (the run loop's read-ahead: only its state may have changed since, and the write checks that): the job
    /// as it now is is built from it rather than read back (a third of a start's cost in the store).
    /// </summary>
    private JobRecord? StartAttempt(string from, JobRecord job, string executor, string reference, int? pid,
        IReadOnlyList<int>? gpus, int? slot, DateTimeOffset? startedAt)
    {
        var now = FromMs((startedAt ?? time.GetUtcNow()).ToUnixTimeMilliseconds());
        using var connection = database.OpenToWrite();
        var command = connection.Prepared(
            $"UPDATE jobs SET state = {StateCode(JobState.Running)}, started_at = $now, pid = $pid, executor = $executor, executor_ref = $ref, gpus = $gpus, slot = $slot, " +
            "attempt = attempt + 1, retry_at = NULL, finished_at = NULL, exit_code = NULL, failure_reason = NULL " +
            $"WHERE number = $number AND {from} RETURNING attempt");
        command.Parameters.AddWithValue("$now", now.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$pid", pid is { } p ? p : DBNull.Value);
        command.Parameters.AddWithValue("$executor", executor);
        command.Parameters.AddWithValue("$ref", reference);
        command.Parameters.AddWithValue("$gpus", (object?)Ints(gpus) ?? DBNull.Value);
        command.Parameters.AddWithValue("$slot", slot is { } s ? s : DBNull.Value);
        command.Parameters.AddWithValue("$number", job.Number);
        using var reader = command.ExecuteReader();
        if (!reader.Read())
        {
            return null;
        }
        return job with
        {
            State = JobState.Running, StartedAt = now, Pid = pid, Executor = executor, ExecutorReference = reference,
            Gpus = gpus is null ? null : [.. gpus], Slot = slot, Attempt = reader.GetInt32(0), RetryAt = null, FinishedAt = null,
            ExitCode = null, FailureReason = null, Environment = null,
        };
    }

    // The job as an end statement left it, from the job as it was and the columns the statement returns; null: not ended.
    private static JobRecord? EndOf(JobRecord known, SqliteCommand command, JobState state, int? exitCode, string? reason)
    {
        using var reader = command.ExecuteReader();
        return reader.Read()
            ? known with
            {
                State = state, FinishedAt = FromMs(reader.GetInt64(0)), ExitCode = exitCode, FailureReason = reason,
                ExecutorState = reader.IsDBNull(1) ? null : reader.GetString(1), Environment = null,
            }
            : null;
    }

    /// <summary>The executor's own word on a job that has not ended ("PENDING (Resources)"); false when it has ended.</summary>
    public bool SetExecutorState(long number, string executorState)
    {
        using var connection = database.OpenToWrite();
        using var command = connection.CreateCommand();
        command.CommandText = $"UPDATE jobs SET executor_state = $text WHERE number = $number AND state NOT IN ({Codes(EndStates)})";
        command.Parameters.AddWithValue("$text", executorState);
        command.Parameters.AddWithValue("$number", number);
        return command.ExecuteNonQuery() == 1;
    }

    /// <summary>
    /// Moves a job to an end state, if <see cref="JobTransitions"/> allows it from where the job is: the job as it now is,
    /// or null when it had already ended. <paramref name="endedAt"/> is when it ended, if not now. With
    /// <paramref name="oneAttempt"/> the caller knows the job ran one attempt and could not retry: no attempt row is
    /// written, so the change is one statement, without a transaction around it. With <paramref name="known"/>, the
    /// job as the caller holds it (the run loop's running job), the job as it now is is built from it and the two
    /// columns others may have changed meanwhile, rather than read back whole.
    /// </summary>
    public JobRecord? MarkEnded(long number, JobState state, int? exitCode, string? reason, DateTimeOffset? endedAt = null, JobState? onlyFrom = null,
        bool oneAttempt = false, JobRecord? known = null)
    {
        if (!JobTransitions.IsEnd(state) || (onlyFrom is { } f && !JobTransitions.IsAllowed(f, state)))
        {
            throw new ArgumentException($"a job does not move to {state} from {onlyFrom?.ToString() ?? "where it is"}", nameof(state));
        }
        IReadOnlyList<JobState> from = onlyFrom is { } only ? [only] : JobTransitions.From(state);
        var now = endedAt ?? time.GetUtcNow();
        using var connection = database.OpenToWrite();
        using var transaction = oneAttempt ? null : connection.BeginTransaction();
        var command = connection.Prepared(
            // Not before it started: the executor's end time is read before the start is recorded for a job that exits at once.
            "UPDATE jobs SET state = $state, finished_at = MAX($now, COALESCE(started_at, $now)), exit_code = $code, failure_reason = $reason " +
            $"WHERE number = $number AND state IN ({Codes(from)}) RETURNING " + (known is null ? ColumnsWithoutEnvironment : "finished_at, executor_state"), transaction);
        command.Parameters.AddWithValue("$state", StateCode(state));
        command.Parameters.AddWithValue("$now", now.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$code", exitCode is { } c ? c : DBNull.Value);
        command.Parameters.AddWithValue("$reason", (object?)reason ?? DBNull.Value);
        command.Parameters.AddWithValue("$number", number);
        var job = known is null ? Read(command).FirstOrDefault() : EndOf(known, command, state, exitCode, reason);
        if (job is null)
        {
            return null;
        }
        if (job.StartedAt is not null && job.Attempt > 0 && (job.Retries > 0 || job.Attempt > 1))
        {
            // An attempt that ran (one waiting out a retry delay has its row already). A job that cannot retry has one
            // attempt, its own row: Attempts reads it from there.
            AddAttempt(connection, transaction, job, exitCode, reason);
        }
        transaction?.Commit();
        return job;
    }

    /// <summary>
    /// An attempt of a RUNNING job failed and it is retried from <paramref name="retryAt"/>: the attempt is kept and the
    /// job stays RUNNING between its attempts (it has not ended: dependants and `wait` wait on), with no process.
    /// The job as it now is, or null when it was no longer running.
    /// </summary>
    public JobRecord? MarkRetrying(long number, int? exitCode, string reason, DateTimeOffset endedAt, DateTimeOffset retryAt)
    {
        using var connection = database.OpenToWrite();
        using var transaction = connection.BeginTransaction();
        var command = connection.Prepared(
            "UPDATE jobs SET finished_at = MAX($now, COALESCE(started_at, $now)), exit_code = $code, " +
            "failure_reason = $reason, retry_at = $at, pid = NULL, executor_state = NULL " +
            $"WHERE number = $number AND state = {StateCode(JobState.Running)} AND retry_at IS NULL RETURNING {ColumnsWithoutEnvironment}", transaction);
        command.Parameters.AddWithValue("$now", endedAt.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$code", exitCode is { } c ? c : DBNull.Value);
        command.Parameters.AddWithValue("$reason", reason);
        command.Parameters.AddWithValue("$at", retryAt.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$number", number);
        if (Read(command) is not [var job])
        {
            return null;
        }
        AddAttempt(connection, transaction, job, exitCode, reason);
        transaction.Commit();
        return job;
    }

    /// <summary>The next attempt of a job between attempts started: the job as it now is, or null when it no longer waits to retry.</summary>
    public JobRecord? MarkNextAttempt(JobRecord job, string executor, string reference, int? pid, IReadOnlyList<int>? gpus = null, int? slot = null,
        DateTimeOffset? startedAt = null) =>
        StartAttempt(IsBetweenAttempts, job, executor, reference, pid, gpus, slot, startedAt);

    /// <summary>Every attempt of a job that has ended, oldest first.</summary>
    public IReadOnlyList<(int Attempt, DateTimeOffset? StartedAt, DateTimeOffset FinishedAt, int? ExitCode, string? Reason)> Attempts(long number)
    {
        using var connection = database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT attempt, started_at, finished_at, exit_code, reason FROM job_attempts WHERE job_number = $n ORDER BY attempt";
        command.Parameters.AddWithValue("$n", number);
        using var reader = command.ExecuteReader();
        var attempts = new List<(int, DateTimeOffset?, DateTimeOffset, int?, string?)>();
        while (reader.Read())
        {
            attempts.Add((reader.GetInt32(0), reader.IsDBNull(1) ? null : FromMs(reader.GetInt64(1)), FromMs(reader.GetInt64(2)),
                reader.IsDBNull(3) ? null : reader.GetInt32(3), reader.IsDBNull(4) ? null : reader.GetString(4)));
        }
        // A job that could not retry ran one attempt, kept in its own row only (MarkEnded).
        if (attempts.Count == 0 && GetByNumber(number) is { IsEnded: true, StartedAt: { } started, FinishedAt: { } finished, Attempt: > 0 } job)
        {
            attempts.Add((job.Attempt, started, finished, job.ExitCode, job.FailureReason));
        }
        return attempts;
    }

    private static void AddAttempt(Database.Writer connection, SqliteTransaction? transaction, JobRecord job, int? exitCode, string? reason)
    {
        var insert = connection.Prepared(
            "INSERT OR IGNORE INTO job_attempts (job_number, attempt, started_at, finished_at, exit_code, reason) VALUES ($n, $a, $s, $f, $c, $r)", transaction);
        insert.Parameters.AddWithValue("$n", job.Number);
        insert.Parameters.AddWithValue("$a", job.Attempt);
        insert.Parameters.AddWithValue("$s", job.StartedAt is { } s ? s.ToUnixTimeMilliseconds() : DBNull.Value);
        insert.Parameters.AddWithValue("$f", (job.FinishedAt ?? DateTimeOffset.UtcNow).ToUnixTimeMilliseconds());
        insert.Parameters.AddWithValue("$c", exitCode is { } c ? c : DBNull.Value);
        insert.Parameters.AddWithValue("$r", (object?)reason ?? DBNull.Value);
        insert.ExecuteNonQuery();
    }

    /// <summary>Deletes every ended job and all that was stored for it; returns them (their folders are the caller's).</summary>
    public IReadOnlyList<JobRecord> DeleteEnded()
    {
        using var connection = database.OpenToWrite();
        using var transaction = connection.BeginTransaction();
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        // Their events, scalars, conditions and notifications go with them (ON DELETE CASCADE, Database migration 3).
        command.CommandText = $"DELETE FROM jobs WHERE state IN ({Codes(EndStates)}) RETURNING {ColumnsWithoutEnvironment}";
        var ended = Read(command);
        transaction.Commit();
        database.NoteDeletion();
        foreach (var job in ended)
        {
            _ended.TryRemove(job.Number, out _);
        }
        return ended;
    }

    private JobRecord? QueryOne(string where, object value, string columns = ColumnsWithoutEnvironment)
    {
        using var connection = database.OpenToRead();
        var command = connection.Prepared($"SELECT {columns} FROM jobs {where}");
        command.Parameters.AddWithValue("$v", value);
        return Read(command).FirstOrDefault();
    }

    private static List<JobRecord> Read(SqliteCommand command)
    {
        using var reader = command.ExecuteReader();
        var jobs = new List<JobRecord>();
        while (reader.Read())
        {
            jobs.Add(new JobRecord
            {
                Number = reader.GetInt64(0),
                Id = reader.GetString(1),
                Name = reader.GetString(2),
                State = StateOf(reader.GetInt32(3)),
                Command = JsonSerializer.Deserialize(reader.GetString(4), AgentJson.Default.StringArray)!,
                WorkingDirectory = reader.GetString(5),
                Environment = reader.IsDBNull(6) ? null : EnvironmentOf(reader.GetString(6)),
                ReportIntervalSeconds = reader.GetInt32(7),
                CreatedAt = FromMs(reader.GetInt64(8)),
                StartedAt = reader.IsDBNull(9) ? null : FromMs(reader.GetInt64(9)),
                FinishedAt = reader.IsDBNull(10) ? null : FromMs(reader.GetInt64(10)),
                ExitCode = reader.IsDBNull(11) ? null : reader.GetInt32(11),
                FailureReason = reader.IsDBNull(12) ? null : reader.GetString(12),
                External = reader.GetInt64(13) != 0,
                Pid = reader.IsDBNull(14) ? null : reader.GetInt32(14),
                OutputDirectory = reader.GetString(15),
                Executor = reader.IsDBNull(16) ? null : reader.GetString(16),
                ExecutorReference = reader.IsDBNull(17) ? null : reader.GetString(17),
                ExecutorState = reader.IsDBNull(18) ? null : reader.GetString(18),
                Priority = reader.GetInt32(19),
                GpuQuarters = reader.GetInt32(20),
                GpuIds = reader.IsDBNull(21) ? null : ParseInts(reader.GetString(21)),
                Gpus = reader.IsDBNull(22) ? null : ParseInts(reader.GetString(22)),
                Slot = reader.IsDBNull(23) ? null : reader.GetInt32(23),
                ScalarPattern = reader.IsDBNull(24) ? null : reader.GetString(24),
                After = reader.IsDBNull(25) ? [] : ParseLongs(reader.GetString(25)),
                AfterAny = reader.IsDBNull(26) ? [] : ParseLongs(reader.GetString(26)),
                TimeoutSeconds = reader.GetInt64(27),
                Retries = reader.GetInt32(28),
                RetryDelaySeconds = reader.GetInt64(29),
                StopIf = reader.IsDBNull(30) ? null : reader.GetString(30),
                Attempt = reader.GetInt32(31),
                RetryAt = reader.IsDBNull(32) ? null : FromMs(reader.GetInt64(32)),
            });
        }
        return jobs;
    }

    // The jobs of one `submit --from` share their submitter's environment: the last one parsed is kept (read-only).
    private static Tuple<string, IReadOnlyDictionary<string, string>>? _lastEnvironment;

    private static IReadOnlyDictionary<string, string> EnvironmentOf(string json)
    {
        if (_lastEnvironment is { } last && last.Item1 == json)
        {
            return last.Item2;
        }
        var environment = JsonSerializer.Deserialize(json, AgentJson.Default.DictionaryStringString)!;
        _lastEnvironment = Tuple.Create(json, (IReadOnlyDictionary<string, string>)environment);
        return environment;
    }

    private static readonly JobState[] EndStates = Enum.GetValues<JobState>().Where(JobTransitions.IsEnd).ToArray();

    // The numbers the state column holds. They are the file format: never renumber, only add.
    private static int StateCode(JobState state) => state switch
    {
        JobState.Queued => 1,
        JobState.Running => 2,
        JobState.Finished => 3,
        JobState.Failed => 4,
        JobState.Canceled => 5,
        _ => throw new ArgumentOutOfRangeException(nameof(state)),
    };

    private static JobState StateOf(int code) => code switch
    {
        1 => JobState.Queued,
        2 => JobState.Running,
        3 => JobState.Finished,
        4 => JobState.Failed,
        5 => JobState.Canceled,
        _ => throw new InvalidDataException($"job state {code} in the database is unknown to this agent"),
    };

    private static string Codes(IEnumerable<JobState> states) => string.Join(',', states.Select(StateCode));

    // GPU index lists are stored as "0,2"; empty is an empty list.
    private static string? Ints(IReadOnlyList<int>? values) =>
        values is null ? null : string.Join(',', values.Select(v => v.ToString(System.Globalization.CultureInfo.InvariantCulture)));

    private static string? Longs(IReadOnlyList<long> values) =>
        values.Count == 0 ? null : string.Join(',', values.Select(v => v.ToString(System.Globalization.CultureInfo.InvariantCulture)));

    private static long[] ParseLongs(string text) => text.Length == 0 ? []
        : text.Split(',').Select(v => long.Parse(v, System.Globalization.CultureInfo.InvariantCulture)).ToArray();

    private static int[] ParseInts(string text) => text.Length == 0 ? []
        : text.Split(',').Select(v => int.Parse(v, System.Globalization.CultureInfo.InvariantCulture)).ToArray();

    private static DateTimeOffset FromMs(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms);

    private static SqliteParameter[] AddParameters(SqliteCommand command, params string[] names) =>
        names.Select(n => command.Parameters.Add(new SqliteParameter(n, null))).ToArray();
}
