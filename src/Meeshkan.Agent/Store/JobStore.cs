using System.Text.Json;
using Meeshkan.V1;
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
        "finished_at, exit_code, failure_reason, external, pid, pid_start_ticks, output_directory";

    // The submitter's environment (often kilobytes of JSON) is read only by the launcher, through NextQueued: every
    // other query returns Environment = null, so that `list` over 10,000 jobs does not parse 10,000 environments.
    private const string ColumnsWithoutEnvironment =
        "number, id, name, state, command, working_directory, NULL, report_interval, created_at, started_at, " +
        "finished_at, exit_code, failure_reason, external, pid, pid_start_ticks, output_directory";

    /// <summary>A job about to be queued; the store gives it its number and output folder.</summary>
    public sealed record NewJob(string Name, IReadOnlyList<string> Command, string WorkingDirectory,
        IReadOnlyDictionary<string, string>? Environment, int ReportIntervalSeconds, bool External = false, int? Pid = null);

    /// <summary>Inserts jobs in one transaction, in order. <paramref name="outputFolder"/> maps a number to its folder.</summary>
    public IReadOnlyList<JobRecord> Insert(IReadOnlyList<NewJob> jobs, Func<long, string> outputFolder, JobState state = JobState.Queued)
    {
        var now = time.GetUtcNow();
        using var connection = database.Open();
        using var transaction = connection.BeginTransaction();
        using var insert = connection.CreateCommand();
        insert.Transaction = transaction;
        insert.CommandText =
            "INSERT INTO jobs (id, name, state, command, working_directory, environment, report_interval, created_at, started_at, external, pid, output_directory) " +
            "VALUES ($id, $name, $state, $command, $cwd, $env, $interval, $created, $started, $external, $pid, '') RETURNING number";
        var p = AddParameters(insert, "$id", "$name", "$state", "$command", "$cwd", "$env", "$interval", "$created", "$started", "$external", "$pid");
        using var setFolder = connection.CreateCommand();
        setFolder.Transaction = transaction;
        setFolder.CommandText = "UPDATE jobs SET output_directory = $dir WHERE number = $number";
        var f = AddParameters(setFolder, "$dir", "$number");
        using var evt = EventCommand(connection, transaction);

        var records = new List<JobRecord>(jobs.Count);
        foreach (var job in jobs)
        {
            var id = Guid.NewGuid().ToString();
            p[0].Value = id;
            p[1].Value = job.Name;
            p[2].Value = (int)state;
            p[3].Value = JsonSerializer.Serialize(job.Command, AgentJson.Default.IReadOnlyListString);
            p[4].Value = job.WorkingDirectory;
            p[5].Value = job.Environment is null ? DBNull.Value : JsonSerializer.Serialize(job.Environment, AgentJson.Default.IReadOnlyDictionaryStringString);
            p[6].Value = job.ReportIntervalSeconds;
            p[7].Value = now.ToUnixTimeMilliseconds();
            p[8].Value = state == JobState.Running ? now.ToUnixTimeMilliseconds() : DBNull.Value;
            p[9].Value = job.External ? 1 : 0;
            p[10].Value = job.Pid is { } pid ? pid : DBNull.Value;
            var number = (long)insert.ExecuteScalar()!;
            var folder = outputFolder(number);
            f[0].Value = folder;
            f[1].Value = number;
            setFolder.ExecuteNonQuery();
            AddEvent(evt, number, now, state, null);
            records.Add(new JobRecord
            {
                Number = number, Id = id, Name = job.Name, State = state, Command = job.Command,
                WorkingDirectory = job.WorkingDirectory, Environment = job.Environment,
                ReportIntervalSeconds = job.ReportIntervalSeconds, CreatedAt = FromMs(now.ToUnixTimeMilliseconds()),
                StartedAt = state == JobState.Running ? FromMs(now.ToUnixTimeMilliseconds()) : null,
                External = job.External, Pid = job.Pid, OutputDirectory = folder,
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

    /// <summary>The oldest queued job, with its environment: the next to run.</summary>
    public JobRecord? NextQueued() => QueryOne($"WHERE state = {(int)JobState.Queued} ORDER BY number LIMIT 1", null, Columns);

    /// <summary>Jobs, oldest first; only the given states when any; the latest <paramref name="limit"/> when positive.</summary>
    public IReadOnlyList<JobRecord> List(IReadOnlyCollection<JobState>? states = null, int limit = 0)
    {
        var where = states is { Count: > 0 } ? $"WHERE state IN ({string.Join(',', states.Select(s => (int)s))})" : "";
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
                listed.Add((reader.GetInt64(0), JobRecord.IsEndState((JobState)reader.GetInt32(1))));
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
            counts[(JobState)reader.GetInt32(0)] = reader.GetInt64(1);
        }
        return counts;
    }

    /// <summary>QUEUED → RUNNING: the job as it now is, or null when it is no longer queued (canceled meanwhile).</summary>
    public JobRecord? MarkRunning(long number, int pid, long? pidStartTicks)
    {
        var now = time.GetUtcNow();
        using var connection = database.Open();
        using var transaction = connection.BeginTransaction();
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText =
            $"UPDATE jobs SET state = {(int)JobState.Running}, started_at = $now, pid = $pid, pid_start_ticks = $ticks " +
            $"WHERE number = $number AND state = {(int)JobState.Queued} RETURNING {ColumnsWithoutEnvironment}";
        command.Parameters.AddWithValue("$now", now.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$pid", pid);
        command.Parameters.AddWithValue("$ticks", pidStartTicks is { } t ? t : DBNull.Value);
        command.Parameters.AddWithValue("$number", number);
        if (Read(command) is not [var job])
        {
            return null;
        }
        using var evt = EventCommand(connection, transaction);
        AddEvent(evt, number, now, JobState.Running, $"pid {pid}");
        transaction.Commit();
        return job;
    }

    /// <summary>Moves a job that has not ended yet to an end state: the job as it now is, or null when it had already ended.</summary>
    public JobRecord? MarkEnded(long number, JobState state, int? exitCode, string? reason)
    {
        var now = time.GetUtcNow();
        using var connection = database.Open();
        using var transaction = connection.BeginTransaction();
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText =
            "UPDATE jobs SET state = $state, finished_at = $now, exit_code = $code, failure_reason = $reason " +
            $"WHERE number = $number AND state IN ({(int)JobState.Queued}, {(int)JobState.Running}) RETURNING {ColumnsWithoutEnvironment}";
        command.Parameters.AddWithValue("$state", (int)state);
        command.Parameters.AddWithValue("$now", now.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$code", exitCode is { } c ? c : DBNull.Value);
        command.Parameters.AddWithValue("$reason", (object?)reason ?? DBNull.Value);
        command.Parameters.AddWithValue("$number", number);
        if (Read(command) is not [var job])
        {
            return null;
        }
        using var evt = EventCommand(connection, transaction);
        AddEvent(evt, number, now, state, reason ?? (exitCode is { } e ? $"exit {e}" : null));
        transaction.Commit();
        return job;
    }

    /// <summary>Deletes every ended job and all that was stored for it; returns them (their folders are the caller's).</summary>
    public IReadOnlyList<JobRecord> DeleteEnded()
    {
        var ended = List([JobState.Finished, JobState.Failed, JobState.Canceled]);
        using var connection = database.Open();
        using var transaction = connection.BeginTransaction();
        var endedJobs = $"SELECT number FROM jobs WHERE state IN ({(int)JobState.Finished}, {(int)JobState.Failed}, {(int)JobState.Canceled})";
        Database.Execute(connection,
            $"DELETE FROM scalar_chunks WHERE name_id IN (SELECT id FROM scalar_names WHERE job_number IN ({endedJobs}));" +
            $"DELETE FROM scalar_names WHERE job_number IN ({endedJobs});" +
            $"DELETE FROM condition_events WHERE job_number IN ({endedJobs});" +
            $"DELETE FROM conditions WHERE job_number IN ({endedJobs});" +
            $"DELETE FROM notifications WHERE job_number IN ({endedJobs});" +
            $"DELETE FROM job_events WHERE job_number IN ({endedJobs});" +
            $"DELETE FROM jobs WHERE number IN ({endedJobs});", transaction);
        transaction.Commit();
        database.NoteDeletion();
        foreach (var job in ended)
        {
            _ended.TryRemove(job.Number, out _);
        }
        return ended;
    }

    private JobRecord? QueryOne(string where, object? value, string columns = ColumnsWithoutEnvironment)
    {
        using var connection = database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {columns} FROM jobs {where}";
        if (value is not null)
        {
            command.Parameters.AddWithValue("$v", value);
        }
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
                State = (JobState)reader.GetInt32(3),
                Command = JsonSerializer.Deserialize(reader.GetString(4), AgentJson.Default.StringArray)!,
                WorkingDirectory = reader.GetString(5),
                Environment = reader.IsDBNull(6) ? null : JsonSerializer.Deserialize(reader.GetString(6), AgentJson.Default.DictionaryStringString),
                ReportIntervalSeconds = reader.GetInt32(7),
                CreatedAt = FromMs(reader.GetInt64(8)),
                StartedAt = reader.IsDBNull(9) ? null : FromMs(reader.GetInt64(9)),
                FinishedAt = reader.IsDBNull(10) ? null : FromMs(reader.GetInt64(10)),
                ExitCode = reader.IsDBNull(11) ? null : reader.GetInt32(11),
                FailureReason = reader.IsDBNull(12) ? null : reader.GetString(12),
                External = reader.GetInt64(13) != 0,
                Pid = reader.IsDBNull(14) ? null : reader.GetInt32(14),
                PidStartTicks = reader.IsDBNull(15) ? null : reader.GetInt64(15),
                OutputDirectory = reader.GetString(16),
            });
        }
        return jobs;
    }

    private static DateTimeOffset FromMs(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms);

    private static SqliteCommand EventCommand(SqliteConnection connection, SqliteTransaction transaction)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "INSERT INTO job_events (job_number, time, state, detail) VALUES ($n, $t, $s, $d)";
        AddParameters(command, "$n", "$t", "$s", "$d");
        return command;
    }

    private static void AddEvent(SqliteCommand command, long number, DateTimeOffset now, JobState state, string? detail)
    {
        command.Parameters[0].Value = number;
        command.Parameters[1].Value = now.ToUnixTimeMilliseconds();
        command.Parameters[2].Value = (int)state;
        command.Parameters[3].Value = (object?)detail ?? DBNull.Value;
        command.ExecuteNonQuery();
    }

    private static SqliteParameter[] AddParameters(SqliteCommand command, params string[] names) =>
        names.Select(n => command.Parameters.Add(new SqliteParameter(n, null))).ToArray();
}
