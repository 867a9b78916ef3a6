using System.Runtime.InteropServices;
using System.Text.Json;
using Google.Protobuf.WellKnownTypes;
using Meeshkan.V1;
using Microsoft.Data.Sqlite;

namespace Meeshkan.Agent.Store;

/// <summary>
/// Scalars in SQLite. Each batch is stored as one chunk per scalar name (steps, values and wall times as packed
/// arrays), which keeps writes near SQLite's row rate divided by the batch size; a per-name summary row holds the
/// latest value, step and count. Each attempt of a job (submit --retries) has its own scalars: reads take an attempt,
/// 0 for the job's latest (the one running or last run). One writer at a time: the per-name cache must match the file.
/// </summary>
public sealed class ScalarStore(Database database)
{
    /// <summary>Distinct scalar names one job may have.</summary>
    public const int MaxNamesPerJob = 10_000;

    // Small enough that a chart of the whole history reads only chunk extents (ScalarBuckets), large enough to write fast.
    private const int MaxChunkPoints = 4_096;

    private readonly Lock _write = new();
    private readonly Dictionary<(long Job, int Attempt, string Name), NameState> _names = new();
    private readonly Dictionary<(long Job, int Attempt), int> _nameCounts = new();

    /// <summary>SQL: the scalar names' attempt is <c>$attempt</c>, or when that is 0 the latest of job <c>$job</c>.</summary>
    private const string AttemptIs =
        "attempt = CASE WHEN $attempt > 0 THEN $attempt ELSE (SELECT MAX(1, j.attempt) FROM jobs j WHERE j.number = $job) END";

    /// <summary>SQL: the scalar names (aliased <c>n</c>) are of their job's latest attempt.</summary>
    private const string LatestAttemptOfEach = "n.attempt = (SELECT MAX(1, j.attempt) FROM jobs j WHERE j.number = n.job_number)";

    /// <summary>A batch would give its job more than <see cref="MaxNamesPerJob"/> names.</summary>
    public sealed class TooManyNamesException(string message) : Exception(message);

    private sealed class NameState
    {
        public long Id;
        public long LastStep;
        public long Count;
        public double LastValue;
        public long LastWallTimeUs;
    }

    /// <summary>One scalar's points from one batch, in order.</summary>
    public sealed record Series(string Name, long[] Steps, double[] Values, long[] WallTimesUs);

    /// <summary>
    /// Stores a validated batch of one attempt of a job (<see cref="JobRecord.ReportingAttempt"/>) in one transaction.
    /// Returns the stored series, or null when the batch (client id and sequence) had been stored before.
    /// </summary>
    public IReadOnlyList<Series>? Append(long jobNumber, int attempt, ScalarBatch batch, long receivedAtUs)
    {
        lock (_write)
        {
            try
            {
                return AppendLocked(jobNumber, attempt, batch, receivedAtUs);
            }
            catch
            {
                // The cache may hold names whose rows were rolled back.
                _names.Clear();
                _nameCounts.Clear();
                throw;
            }
        }
    }

    private IReadOnlyList<Series>? AppendLocked(long jobNumber, int attempt, ScalarBatch batch, long receivedAtUs)
    {
        {
            using var writer = database.OpenToWrite();
            var connection = writer.Connection;
            using var transaction = connection.BeginTransaction();
            if (!string.IsNullOrEmpty(batch.ClientId) && !MarkSeen(connection, transaction, batch.ClientId, batch.Sequence))
            {
                return null;
            }
            var states = batch.Names.Select(name => GetOrCreate(connection, transaction, jobNumber, attempt, name)).ToArray();
            var series = Split(batch, states, receivedAtUs);

            // The blobs are written in place from the series' arrays (incremental blob I/O): no byte[] copy of each
            // column, no large-object-heap garbage, no second copy by sqlite3_bind_blob.
            using var insert = connection.CreateCommand();
            insert.Transaction = transaction;
            insert.CommandText =
                "INSERT INTO scalar_chunks (name_id, first_step, count, steps, vals, wall_times, " +
                "min_step, max_step, min_time, max_time, lo, lo_step, lo_time, hi, hi_step, hi_time) " +
                "VALUES ($id, $first, $count, zeroblob($stepBytes), zeroblob($bytes), zeroblob($bytes), " +
                "$minStep, $maxStep, $minTime, $maxTime, $lo, $loStep, $loTime, $hi, $hiStep, $hiTime) RETURNING rowid";
            var p = new[] { "$id", "$first", "$count", "$stepBytes", "$bytes" }.Select(n => insert.Parameters.Add(new SqliteParameter(n, null))).ToArray();
            var e = ChunkExtent.ParameterNames.Select(n => insert.Parameters.Add(new SqliteParameter(n, null))).ToArray();
            using var update = connection.CreateCommand();
            update.Transaction = transaction;
            update.CommandText = "UPDATE scalar_names SET last_step = $step, last_value = $value, last_wall_time_us = $time, count = $count WHERE id = $id";
            var u = new[] { "$step", "$value", "$time", "$count", "$id" }.Select(n => update.Parameters.Add(new SqliteParameter(n, null))).ToArray();

            var pending = new List<(NameState State, long Step, double Value, long Time, long Count)>();
            for (var i = 0; i < series.Count; i++)
            {
                var s = series[i];
                if (s.Steps.Length == 0)
                {
                    continue;
                }
                var state = states[i];
                for (var start = 0; start < s.Steps.Length; start += MaxChunkPoints)
                {
                    var length = Math.Min(MaxChunkPoints, s.Steps.Length - start);
                    var steps = s.Steps.AsSpan(start, length);
                    // Consecutive steps (the usual case: numbered by the agent or by a loop counter) are stored as an
                    // empty blob and rebuilt from first_step: a third less to write.
                    var consecutive = IsConsecutive(steps);
                    p[0].Value = state.Id;
                    p[1].Value = steps[0];
                    p[2].Value = length;
                    p[3].Value = consecutive ? 0 : length * sizeof(long);
                    p[4].Value = length * sizeof(double);
                    ChunkExtent.Of(steps, s.Values.AsSpan(start, length), s.WallTimesUs.AsSpan(start, length)).Bind(e);
                    var rowid = (long)insert.ExecuteScalar()!;
                    if (!consecutive)
                    {
                        WriteBlob(connection, "steps", rowid, MemoryMarshal.AsBytes(steps));
                    }
                    WriteBlob(connection, "vals", rowid, MemoryMarshal.AsBytes(s.Values.AsSpan(start, length)));
                    WriteBlob(connection, "wall_times", rowid, MemoryMarshal.AsBytes(s.WallTimesUs.AsSpan(start, length)));
                }
                var last = s.Steps.Length - 1;
                var count = state.Count + s.Steps.Length;
                u[0].Value = s.Steps[last];
                u[1].Value = DoubleToDb(s.Values[last]);
                u[2].Value = s.WallTimesUs[last];
                u[3].Value = count;
                u[4].Value = state.Id;
                update.ExecuteNonQuery();
                pending.Add((state, s.Steps[last], s.Values[last], s.WallTimesUs[last], count));
            }
            transaction.Commit();
            // Only now that the file has it does the cache move on.
            foreach (var (state, step, value, time, count) in pending)
            {
                state.LastStep = step;
                state.LastValue = value;
                state.LastWallTimeUs = time;
                state.Count = count;
            }
            return series;
        }
    }

    /// <summary>The highest sequence stored for a client id; 0 when none (the agent's output reader keeps its offsets so).</summary>
    public ulong LastSequence(string clientId)
    {
        using var connection = database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT MAX(sequence) FROM scalar_batches_seen WHERE client_id = $c";
        command.Parameters.AddWithValue("$c", clientId);
        return command.ExecuteScalar() is long last ? unchecked((ulong)last) : 0;
    }

    /// <summary>The latest values of the scalars named <paramref name="names"/> of each of <paramref name="jobNumbers"/> (their latest attempts), in one query.</summary>
    public IReadOnlyDictionary<(long Job, string Name), double> LatestOf(IReadOnlyCollection<long> jobNumbers, IReadOnlyList<string> names)
    {
        var latest = new Dictionary<(long, string), double>();
        if (jobNumbers.Count == 0)
        {
            return latest;
        }
        using var connection = database.Open();
        using var command = connection.CreateCommand();
        var nameParameters = names.Select((name, i) => command.Parameters.AddWithValue($"$n{i}", name).ParameterName);
        command.CommandText = $"SELECT n.job_number, n.name, n.last_value FROM scalar_names n WHERE n.job_number IN ({string.Join(',', jobNumbers)}) " +
            $"AND n.name IN ({string.Join(',', nameParameters)}) AND {LatestAttemptOfEach}";
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            latest[(reader.GetInt64(0), reader.GetString(1))] = reader.IsDBNull(2) ? double.NaN : reader.GetDouble(2);
        }
        return latest;
    }

    /// <summary>The number of distinct scalar names an attempt of a job has (0: its latest).</summary>
    public int NameCount(long jobNumber, int attempt = 0)
    {
        using var connection = database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT COUNT(*) FROM scalar_names WHERE job_number = $job AND {AttemptIs}";
        command.Parameters.AddWithValue("$job", jobNumber);
        command.Parameters.AddWithValue("$attempt", attempt);
        return Convert.ToInt32(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>The latest value of each of a job's scalars, by name, in one attempt (0: its latest).</summary>
    public IReadOnlyList<ScalarSummary> Latest(long jobNumber, int attempt = 0)
    {
        // Read for every job's end notification: a kept statement.
        using var connection = database.OpenToRead();
        var command = connection.Prepared("SELECT name, last_value, last_step, last_wall_time_us, count FROM scalar_names " +
            $"WHERE job_number = $job AND {AttemptIs} AND count > 0 ORDER BY name");
        command.Parameters.AddWithValue("$job", jobNumber);
        command.Parameters.AddWithValue("$attempt", attempt);
        using var reader = command.ExecuteReader();
        var result = new List<ScalarSummary>();
        while (reader.Read())
        {
            result.Add(ReadSummary(reader, 0));
        }
        return result;
    }

    /// <summary>Each job's most recently reported scalar (name, value, step) in its latest attempt, by job number: a job's progress.</summary>
    public IReadOnlyDictionary<long, ScalarSummary> MostRecentPerJob()
    {
        using var connection = database.Open();
        using var command = connection.CreateCommand();
        // SQLite: with MAX(), the other columns come from the row holding the maximum.
        command.CommandText =
            "SELECT n.job_number, n.name, n.last_value, n.last_step, MAX(n.last_wall_time_us), n.count FROM scalar_names n " +
            $"WHERE n.count > 0 AND {LatestAttemptOfEach} GROUP BY n.job_number";
        using var reader = command.ExecuteReader();
        var result = new Dictionary<long, ScalarSummary>();
        while (reader.Read())
        {
            result[reader.GetInt64(0)] = ReadSummary(reader, 1);
        }
        return result;
    }

    /// <summary>A summary from five columns starting at <paramref name="first"/>: name, last value, last step, last wall time (µs), count.</summary>
    private static ScalarSummary ReadSummary(SqliteDataReader reader, int first) => new()
    {
        Name = reader.GetString(first),
        Value = reader.IsDBNull(first + 1) ? double.NaN : reader.GetDouble(first + 1),
        Step = reader.GetInt64(first + 2),
        Time = Timestamp.FromDateTimeOffset(DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(first + 3) / 1000)),
        Count = reader.GetInt64(first + 4),
    };

    /// <summary>One job's most recently reported scalar (in its latest attempt), or null before its first.</summary>
    public ScalarSummary? MostRecent(long jobNumber) =>
        Latest(jobNumber).MaxBy(s => s.Time.ToDateTimeOffset());

    /// <summary>Every point of one scalar of an attempt (0: the latest), in the order reported; null when it has no such scalar.</summary>
    public IReadOnlyList<ScalarPoint>? History(long jobNumber, string name, int attempt = 0)
    {
        List<ScalarPoint>? points = null;
        var count = VisitChunks(jobNumber, name, (steps, values, times, firstStep) =>
        {
            for (var i = 0; i < values.Length; i++)
            {
                points!.Add(new ScalarPoint { Step = steps.IsEmpty ? firstStep + i : steps[i], Value = values[i], WallTimeUs = times[i] });
            }
        }, total => points = new List<ScalarPoint>((int)Math.Min(total, int.MaxValue / 2)), attempt);
        return count is null ? null : points;
    }

    /// <summary>The steps where a scalar was NaN, the first of each run of them, at most <paramref name="max"/>: charts mark them.</summary>
    public IReadOnlyList<long> NaNSteps(long jobNumber, string name, int max, int attempt = 0)
    {
        var found = new List<long>();
        var inRun = false;
        VisitChunks(jobNumber, name, (steps, values, _, firstStep) =>
        {
            for (var i = 0; i < values.Length && found.Count < max; i++)
            {
                var nan = double.IsNaN(values[i]);
                if (nan && !inRun)
                {
                    found.Add(steps.IsEmpty ? firstStep + i : steps[i]);
                }
                inRun = nan;
            }
        }, _ => { }, attempt);
        return found;
    }

    private delegate void ChunkVisitor(ReadOnlySpan<long> steps, ReadOnlySpan<double> values, ReadOnlySpan<long> wallTimes, long firstStep);

    /// <summary>
    /// Decodes one scalar's chunks in the order they were stored. <paramref name="begin"/> gets the point count first.
    /// Returns that count, or null when the job has no such scalar. An empty steps blob means consecutive steps from first_step.
    /// </summary>
    private long? VisitChunks(long jobNumber, string name, ChunkVisitor visit, Action<long> begin, int attempt)
    {
        using var connection = database.Open();
        using var command = connection.CreateCommand();
        command.CommandText =
            "SELECT n.count, c.steps, c.vals, c.wall_times, c.first_step FROM scalar_names n LEFT JOIN scalar_chunks c ON c.name_id = n.id " +
            $"WHERE n.job_number = $job AND n.{AttemptIs} AND n.name = $name ORDER BY c.rowid";
        command.Parameters.AddWithValue("$job", jobNumber);
        command.Parameters.AddWithValue("$attempt", attempt);
        command.Parameters.AddWithValue("$name", name);
        using var reader = command.ExecuteReader();
        if (!reader.Read())
        {
            return null;
        }
        var count = reader.GetInt64(0);
        begin(count);
        do
        {
            if (reader.IsDBNull(2))
            {
                continue;
            }
            visit(MemoryMarshal.Cast<byte, long>((byte[])reader[1]), MemoryMarshal.Cast<byte, double>((byte[])reader[2]),
                MemoryMarshal.Cast<byte, long>((byte[])reader[3]), reader.GetInt64(4));
        }
        while (reader.Read());
        return count;
    }

    /// <summary>
    /// One scalar's shape in bounded memory, for charts and trend lines: with more than two points a bucket,
    /// each run of consecutive points is reduced to its lowest and highest (in the order they came), so spikes
    /// survive. Null when the job has no such scalar. NaN points are left out.
    /// </summary>
    public (double[] Steps, double[] Values)? Overview(long jobNumber, string name, int buckets, int attempt = 0)
    {
        long per = 1, seen = 0;
        var outSteps = new List<double>();
        var outValues = new List<double>();
        (long Step, double Value, long At) low = default, high = default;
        var any = false;
        void Flush()
        {
            if (!any)
            {
                return;
            }
            var (first, second) = low.At <= high.At ? (low, high) : (high, low);
            outSteps.Add(first.Step);
            outValues.Add(first.Value);
            if (second.At != first.At)
            {
                outSteps.Add(second.Step);
                outValues.Add(second.Value);
            }
            any = false;
        }
        var count = VisitChunks(jobNumber, name, (steps, values, _, firstStep) =>
        {
            for (var i = 0; i < values.Length; i++, seen++)
            {
                if (seen % per == 0)
                {
                    Flush();
                }
                var value = values[i];
                if (double.IsNaN(value))
                {
                    continue;
                }
                var point = (steps.IsEmpty ? firstStep + i : steps[i], value, seen);
                if (!any)
                {
                    low = high = point;
                    any = true;
                }
                else if (value < low.Value)
                {
                    low = point;
                }
                else if (value > high.Value)
                {
                    high = point;
                }
            }
        }, total => per = Math.Max(1, (long)Math.Ceiling(total / (double)Math.Max(1, buckets))), attempt);
        if (count is null)
        {
            return null;
        }
        Flush();
        return (outSteps.ToArray(), outValues.ToArray());
    }

    private static List<Series> Split(ScalarBatch batch, NameState[] states, long receivedAtUs)
    {
        var counts = new int[batch.Names.Count];
        foreach (var index in batch.NameIndex)
        {
            counts[index]++;
        }
        var series = new List<Series>(batch.Names.Count);
        for (var n = 0; n < batch.Names.Count; n++)
        {
            series.Add(new Series(batch.Names[n], new long[counts[n]], new double[counts[n]], new long[counts[n]]));
        }
        var filled = new int[batch.Names.Count];
        var nextStep = states.Select(s => s.Count == 0 ? 0 : s.LastStep + 1).ToArray();
        var hasSteps = batch.Steps.Count > 0;
        var hasTimes = batch.WallTimeUs.Count > 0;
        for (var i = 0; i < batch.Values.Count; i++)
        {
            var n = (int)batch.NameIndex[i];
            var at = filled[n]++;
            var s = series[n];
            s.Steps[at] = hasSteps ? batch.Steps[i] : nextStep[n]++;
            s.Values[at] = batch.Values[i];
            s.WallTimesUs[at] = hasTimes ? batch.WallTimeUs[i] : receivedAtUs;
        }
        return series;
    }

    private NameState GetOrCreate(SqliteConnection connection, SqliteTransaction transaction, long jobNumber, int attempt, string name)
    {
        if (_names.TryGetValue((jobNumber, attempt, name), out var cached))
        {
            return cached;
        }
        using var select = connection.CreateCommand();
        select.Transaction = transaction;
        select.CommandText = "SELECT id, last_step, count, last_value, last_wall_time_us FROM scalar_names WHERE job_number = $job AND attempt = $attempt AND name = $name";
        select.Parameters.AddWithValue("$job", jobNumber);
        select.Parameters.AddWithValue("$attempt", attempt);
        select.Parameters.AddWithValue("$name", name);
        NameState state;
        using (var reader = select.ExecuteReader())
        {
            state = reader.Read()
                ? new NameState
                {
                    Id = reader.GetInt64(0), LastStep = reader.GetInt64(1), Count = reader.GetInt64(2),
                    LastValue = reader.IsDBNull(3) ? double.NaN : reader.GetDouble(3), LastWallTimeUs = reader.GetInt64(4),
                }
                : new NameState { Id = 0 };
        }
        if (state.Id == 0)
        {
            if (!_nameCounts.TryGetValue((jobNumber, attempt), out var names))
            {
                names = NameCount(jobNumber, attempt);
            }
            if (names >= MaxNamesPerJob)
            {
                throw new TooManyNamesException($"job {jobNumber} already has {MaxNamesPerJob} distinct scalar names, the most one job may have; reuse names");
            }
            _nameCounts[(jobNumber, attempt)] = names + 1;
            using var insert = connection.CreateCommand();
            insert.Transaction = transaction;
            insert.CommandText = "INSERT INTO scalar_names (job_number, attempt, name, last_step, last_wall_time_us, count) VALUES ($job, $attempt, $name, -1, 0, 0) RETURNING id";
            insert.Parameters.AddWithValue("$job", jobNumber);
            insert.Parameters.AddWithValue("$attempt", attempt);
            insert.Parameters.AddWithValue("$name", name);
            state.Id = (long)insert.ExecuteScalar()!;
            state.LastStep = -1;
        }
        // Cached before commit: a rolled-back insert would leave a stale id, so drop the cache on failure.
        _names[(jobNumber, attempt, name)] = state;
        return state;
    }

    private static bool IsConsecutive(ReadOnlySpan<long> steps)
    {
        for (var i = 1; i < steps.Length; i++)
        {
            if (steps[i] != steps[0] + i)
            {
                return false;
            }
        }
        return true;
    }

    private static void WriteBlob(SqliteConnection connection, string column, long rowid, ReadOnlySpan<byte> bytes)
    {
        using var blob = new SqliteBlob(connection, "scalar_chunks", column, rowid);
        blob.Write(bytes);
    }

    private static bool MarkSeen(SqliteConnection connection, SqliteTransaction transaction, string clientId, ulong sequence)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "INSERT OR IGNORE INTO scalar_batches_seen (client_id, sequence) VALUES ($c, $s)";
        command.Parameters.AddWithValue("$c", clientId);
        command.Parameters.AddWithValue("$s", unchecked((long)sequence));
        return command.ExecuteNonQuery() == 1;
    }

    // SQLite stores NaN as NULL; infinities survive as REAL.
    private static object DoubleToDb(double value) => double.IsNaN(value) ? DBNull.Value : value;
}
