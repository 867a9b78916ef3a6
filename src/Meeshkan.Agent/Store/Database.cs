using Microsoft.Data.Sqlite;

namespace Meeshkan.Agent.Store;

/// <summary>
/// The agent's SQLite file: opens connections and keeps the schema current.
/// Every SQL statement of the agent lives in this folder.
/// </summary>
public sealed class Database : IDisposable
{
    private int _deletions;

    /// <summary>
    /// How many times rows were deleted (by `clear`). Stores that read only what was added since their last read
    /// start over when it changes: a deleted id may be used again.
    /// </summary>
    public int Deletions => Volatile.Read(ref _deletions);

    public void NoteDeletion() => Interlocked.Increment(ref _deletions);

    private readonly string _connectionString;

    public Database(string path)
    {
        Path = path;
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
    }

    public string Path { get; }

    // The SQLite connections (the pool keeps them open between uses) whose pragmas are set: once each is enough.
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<SQLitePCL.sqlite3, object> _prepared = [];

    // One write at a time in this process: see OpenToWrite.
    private readonly SemaphoreSlim _writer = new(1, 1);

    private static readonly TimeSpan WriterWait = TimeSpan.FromSeconds(10);

    /// <summary>An open connection (from the pool) with the agent's pragmas set, for reads.</summary>
    public SqliteConnection Open() => Prepare(new SqliteConnection(_connectionString));

    /// <summary>
    /// The connection for a write; the agent's other writes wait until it is disposed. Two of its threads writing at
    /// once (the run loop and the notification history) otherwise meet in SQLite's lock, whose busy handler sleeps 1, 2,
    /// 5 ms... between tries for writes that last tens of microseconds: a millisecond lost each time, a third of a
    /// trivial job's cost (bench/parallel.sh). Here the second writer wakes as the first ends. Reads (WAL) never wait.
    /// Every write goes through one connection kept open, so that a statement written often is compiled once
    /// (<see cref="Writer.Prepared"/>).
    /// </summary>
    public Writer OpenToWrite()
    {
        if (!_writer.Wait(WriterWait))
        {
            throw new SqliteException($"database is locked: another write of this agent took longer than {WriterWait.TotalSeconds:0} s", 5);
        }
        try
        {
            _writeConnection ??= new KeptConnection(Prepare(new SqliteConnection(_connectionString)));
            return new Writer(_writeConnection, _writer);
        }
        catch
        {
            _writer.Release();
            throw;
        }
    }

    private KeptConnection? _writeConnection;

    /// <summary>
    /// A connection for a read of a statement the agent runs often (<see cref="KeptConnection.Prepared"/>), held until
    /// disposed. Such connections are kept open, one for each read running at once, each with its statements compiled.
    /// </summary>
    public Reader OpenToRead() =>
        new(_readers.TryTake(out var kept) ? kept : new KeptConnection(Prepare(new SqliteConnection(_connectionString))), _readers);

    private readonly System.Collections.Concurrent.ConcurrentBag<KeptConnection> _readers = [];

    /// <summary>
    /// A connection kept open with the statements run on it: SQLite parses and plans a statement in tens of
    /// microseconds, more than running it, and the agent runs the same few for every job.
    /// </summary>
    public sealed class KeptConnection(SqliteConnection connection)
    {
        private readonly Dictionary<string, SqliteCommand> _statements = new(StringComparer.Ordinal);

        public SqliteConnection Connection { get; } = connection;

        public void Close()
        {
            foreach (var command in _statements.Values)
            {
                command.Dispose();
            }
            _statements.Clear();
            Connection.Dispose();
        }

        /// <summary>
        /// The kept command for <paramref name="sql"/> (a constant text: each distinct text is kept for the agent's life),
        /// in <paramref name="transaction"/>, with no parameters yet. Not to be disposed: it is the connection's.
        /// </summary>
        public SqliteCommand Prepared(string sql, SqliteTransaction? transaction = null)
        {
            if (!_statements.TryGetValue(sql, out var command))
            {
                command = Connection.CreateCommand();
                command.CommandText = sql;
                _statements[sql] = command;
            }
            command.Transaction = transaction;
            command.Parameters.Clear();
            return command;
        }
    }

    /// <summary>
    /// Closes the kept connections and the pool's (the agent stops): the last to close writes the WAL back into the file
    /// and removes it, so that a stopped agent leaves one file. A later use opens them again.
    /// </summary>
    public void Dispose()
    {
        if (!_writer.Wait(WriterWait))
        {
            return;
        }
        try
        {
            _writeConnection?.Close();
            _writeConnection = null;
            while (_readers.TryTake(out var reader))
            {
                reader.Close();
            }
            SqliteConnection.ClearAllPools();
        }
        finally
        {
            _writer.Release();
        }
    }

    /// <summary>The agent's write connection, held until disposed: then the next write goes.</summary>
    public sealed class Writer : IDisposable
    {
        private readonly KeptConnection _kept;
        private SemaphoreSlim? _gate;

        internal Writer(KeptConnection kept, SemaphoreSlim gate)
        {
            _kept = kept;
            _gate = gate;
        }

        public SqliteConnection Connection => _kept.Connection;

        public SqliteTransaction BeginTransaction() => Connection.BeginTransaction();

        /// <summary>A command of its own (disposed by the caller), for statements written rarely or built each time.</summary>
        public SqliteCommand CreateCommand() => Connection.CreateCommand();

        /// <inheritdoc cref="KeptConnection.Prepared"/>
        public SqliteCommand Prepared(string sql, SqliteTransaction? transaction = null) => _kept.Prepared(sql, transaction);

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _gate, null) is { } gate)
            {
                gate.Release();
            }
        }
    }

    /// <summary>A kept connection for reads, given back to the others when disposed.</summary>
    public sealed class Reader : IDisposable
    {
        private KeptConnection? _kept;
        private readonly System.Collections.Concurrent.ConcurrentBag<KeptConnection> _bag;

        internal Reader(KeptConnection kept, System.Collections.Concurrent.ConcurrentBag<KeptConnection> bag)
        {
            _kept = kept;
            _bag = bag;
        }

        /// <inheritdoc cref="KeptConnection.Prepared"/>
        public SqliteCommand Prepared(string sql) => (_kept ?? throw new ObjectDisposedException(nameof(Reader))).Prepared(sql);

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _kept, null) is not { } kept)
            {
                return;
            }
            // A burst of reads at once leaves at most KeptReaders open (each holds its own page cache).
            if (_bag.Count < KeptReaders)
            {
                _bag.Add(kept);
            }
            else
            {
                kept.Close();
            }
        }

        private const int KeptReaders = 4;
    }

    private SqliteConnection Prepare(SqliteConnection connection)
    {
        connection.Open();
        if (!_prepared.TryGetValue(connection.Handle!, out _))
        {
            using var pragma = connection.CreateCommand();
            pragma.CommandText = "PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000; PRAGMA foreign_keys=ON;";
            pragma.ExecuteNonQuery();
            _prepared.AddOrUpdate(connection.Handle!, _prepared);
        }
        return connection;
    }

    /// <summary>
    /// Creates or upgrades the schema, and makes the file readable by its owner only. A damaged or locked file is an
    /// <see cref="InvalidDataException"/> naming it; the file itself is left as it is.
    /// </summary>
    public void Migrate()
    {
        try
        {
            MigrateFile();
        }
        catch (SqliteException e) when (PermissionDenied(Path))
        {
            throw new InvalidDataException($"permission denied on the database {Path}: this user cannot read and write it " +
                $"(its mode or owner was changed); give it back with `chmod 600 {Path}` as its owner, or set MEESHKAN_HOME to a folder of your own", e);
        }
        catch (SqliteException e)
        {
            var what = e.SqliteErrorCode is 5 or 6 ? "is locked by another process" : "cannot be used";
            throw new InvalidDataException(
                $"the database {Path} {what} ({e.Message.TrimEnd('.')}); it was left as it is: " +
                (e.SqliteErrorCode is 5 or 6 ? "close the other program and start again" : "move it aside to start with an empty queue"), e);
        }
    }

    private static bool PermissionDenied(string path)
    {
        try
        {
            using var file = File.Open(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return true;
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>The schema version <see cref="Migrate"/> brings a file to.</summary>
    internal static int LatestVersion => Migrations.Length;

    private void MigrateFile() => MigrateFile(Migrations.Length);

    /// <summary>Brings the file to schema <paramref name="target"/> only (tests write files of earlier versions with it).</summary>
    internal void MigrateTo(int target) => MigrateFile(Math.Clamp(target, 1, Migrations.Length));

    private void MigrateFile(int target)
    {
        var existed = File.Exists(Path);
        using var connection = Open();
        if (!existed)
        {
            File.SetUnixFileMode(Path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        Execute(connection, "PRAGMA journal_mode=WAL;");
        var version = Scalar<long>(connection, "PRAGMA user_version;");
        if (version > Migrations.Length)
        {
            throw new InvalidDataException(
                $"the database {Path} was written by a newer Meeshkan (schema {version}, this one knows {Migrations.Length}); it was left as it is: run that version");
        }
        if (version >= target)
        {
            return;
        }
        // A migration may rebuild a table others refer to (SQLite cannot add a foreign key to a table): checks are off
        // while it runs (they cannot be switched inside a transaction) and the result is checked before it commits.
        Execute(connection, "PRAGMA foreign_keys=OFF;");
        try
        {
            for (var v = (int)version; v < target; v++)
            {
                using var transaction = connection.BeginTransaction();
                Execute(connection, Migrations[v], transaction);
                using (var check = connection.CreateCommand())
                {
                    check.Transaction = transaction;
                    check.CommandText = "PRAGMA foreign_key_check;";
                    using var reader = check.ExecuteReader();
                    if (reader.Read())
                    {
                        throw new InvalidDataException($"the database {Path} has a row of {reader.GetString(0)} that refers to nothing; it was left as it is");
                    }
                }
                Execute(connection, $"PRAGMA user_version={v + 1};", transaction);
                transaction.Commit();
            }
        }
        finally
        {
            Execute(connection, "PRAGMA foreign_keys=ON;");
        }
    }

    internal static void Execute(SqliteConnection connection, string sql, SqliteTransaction? transaction = null)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    internal static T Scalar<T>(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return (T)Convert.ChangeType(command.ExecuteScalar()!, typeof(T), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Schema versions, in order. Only ever append.</summary>
    private static readonly string[] Migrations =
    [
        """
        CREATE TABLE jobs (
            number INTEGER PRIMARY KEY AUTOINCREMENT,
            id TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL,
            state INTEGER NOT NULL,
            command TEXT NOT NULL,
            working_directory TEXT NOT NULL,
            environment TEXT,
            report_interval INTEGER NOT NULL,
            created_at INTEGER NOT NULL,
            started_at INTEGER,
            finished_at INTEGER,
            exit_code INTEGER,
            failure_reason TEXT,
            external INTEGER NOT NULL DEFAULT 0,
            pid INTEGER,
            pid_start_ticks INTEGER,
            output_directory TEXT NOT NULL
        );
        CREATE INDEX jobs_by_state ON jobs (state, number);
        CREATE INDEX jobs_by_name ON jobs (name);
        CREATE TABLE job_events (
            job_number INTEGER NOT NULL REFERENCES jobs (number),
            time INTEGER NOT NULL,
            state INTEGER NOT NULL,
            detail TEXT
        );
        CREATE INDEX job_events_by_job ON job_events (job_number);
        CREATE TABLE scalar_names (
            id INTEGER PRIMARY KEY,
            job_number INTEGER NOT NULL REFERENCES jobs (number),
            name TEXT NOT NULL,
            last_step INTEGER NOT NULL,
            last_value REAL,
            last_wall_time_us INTEGER NOT NULL,
            count INTEGER NOT NULL,
            UNIQUE (job_number, name)
        );
        CREATE TABLE scalar_chunks (
            name_id INTEGER NOT NULL REFERENCES scalar_names (id),
            first_step INTEGER NOT NULL,
            count INTEGER NOT NULL,
            steps BLOB NOT NULL,
            vals BLOB NOT NULL,
            wall_times BLOB NOT NULL
        );
        CREATE INDEX scalar_chunks_by_name ON scalar_chunks (name_id, first_step);
        CREATE TABLE scalar_batches_seen (
            client_id TEXT NOT NULL,
            sequence INTEGER NOT NULL,
            PRIMARY KEY (client_id, sequence)
        ) WITHOUT ROWID;
        CREATE TABLE conditions (
            id TEXT PRIMARY KEY,
            job_number INTEGER NOT NULL REFERENCES jobs (number),
            expression TEXT,
            names TEXT NOT NULL,
            description TEXT NOT NULL,
            evaluated_by_client INTEGER NOT NULL,
            only_reported INTEGER NOT NULL,
            cooldown_seconds INTEGER NOT NULL,
            last_fired_at INTEGER
        );
        CREATE TABLE condition_events (
            id INTEGER PRIMARY KEY,
            condition_id TEXT NOT NULL REFERENCES conditions (id),
            job_number INTEGER NOT NULL,
            time INTEGER NOT NULL,
            vals TEXT NOT NULL
        );
        CREATE INDEX condition_events_by_job ON condition_events (job_number);
        CREATE TABLE notifications (
            id INTEGER PRIMARY KEY,
            job_number INTEGER,
            time INTEGER NOT NULL,
            event TEXT NOT NULL,
            channel TEXT NOT NULL,
            status INTEGER NOT NULL,
            reason TEXT,
            attempt INTEGER NOT NULL,
            summary TEXT
        );
        CREATE INDEX notifications_by_job ON notifications (job_number, id);
        """,
        // 2: which executor runs a job and its reference there (local: "pid:start-ticks", from the old columns).
        """
        ALTER TABLE jobs ADD COLUMN executor TEXT;
        ALTER TABLE jobs ADD COLUMN executor_ref TEXT;
        ALTER TABLE jobs ADD COLUMN executor_state TEXT;
        UPDATE jobs SET executor = 'local', executor_ref = pid || COALESCE(':' || pid_start_ticks, '')
            WHERE external = 0 AND pid IS NOT NULL;
        ALTER TABLE jobs DROP COLUMN pid_start_ticks;
        """,
        // 3: everything stored for a job goes with it (ON DELETE CASCADE), so deleting jobs is one statement. SQLite
        // cannot add a foreign key: each table is rebuilt. Rows of jobs deleted before are not copied.
        """
        CREATE TABLE job_events_v3 (
            job_number INTEGER NOT NULL REFERENCES jobs (number) ON DELETE CASCADE,
            time INTEGER NOT NULL,
            state INTEGER NOT NULL,
            detail TEXT
        );
        INSERT INTO job_events_v3 SELECT job_number, time, state, detail FROM job_events WHERE job_number IN (SELECT number FROM jobs);
        DROP TABLE job_events;
        ALTER TABLE job_events_v3 RENAME TO job_events;
        CREATE INDEX job_events_by_job ON job_events (job_number);

        CREATE TABLE scalar_names_v3 (
            id INTEGER PRIMARY KEY,
            job_number INTEGER NOT NULL REFERENCES jobs (number) ON DELETE CASCADE,
            name TEXT NOT NULL,
            last_step INTEGER NOT NULL,
            last_value REAL,
            last_wall_time_us INTEGER NOT NULL,
            count INTEGER NOT NULL,
            UNIQUE (job_number, name)
        );
        INSERT INTO scalar_names_v3 SELECT id, job_number, name, last_step, last_value, last_wall_time_us, count FROM scalar_names
            WHERE job_number IN (SELECT number FROM jobs);
        CREATE TABLE scalar_chunks_v3 (
            name_id INTEGER NOT NULL REFERENCES scalar_names (id) ON DELETE CASCADE,
            first_step INTEGER NOT NULL,
            count INTEGER NOT NULL,
            steps BLOB NOT NULL,
            vals BLOB NOT NULL,
            wall_times BLOB NOT NULL
        );
        INSERT INTO scalar_chunks_v3 SELECT name_id, first_step, count, steps, vals, wall_times FROM scalar_chunks
            WHERE name_id IN (SELECT id FROM scalar_names_v3);
        DROP TABLE scalar_chunks;
        DROP TABLE scalar_names;
        ALTER TABLE scalar_names_v3 RENAME TO scalar_names;
        ALTER TABLE scalar_chunks_v3 RENAME TO scalar_chunks;
        CREATE INDEX scalar_chunks_by_name ON scalar_chunks (name_id, first_step);

        CREATE TABLE conditions_v3 (
            id TEXT PRIMARY KEY,
            job_number INTEGER NOT NULL REFERENCES jobs (number) ON DELETE CASCADE,
            expression TEXT,
            names TEXT NOT NULL,
            description TEXT NOT NULL,
            evaluated_by_client INTEGER NOT NULL,
            only_reported INTEGER NOT NULL,
            cooldown_seconds INTEGER NOT NULL,
            last_fired_at INTEGER
        );
        INSERT INTO conditions_v3 SELECT id, job_number, expression, names, description, evaluated_by_client, only_reported,
            cooldown_seconds, last_fired_at FROM conditions WHERE job_number IN (SELECT number FROM jobs);
        CREATE TABLE condition_events_v3 (
            id INTEGER PRIMARY KEY,
            condition_id TEXT NOT NULL REFERENCES conditions (id) ON DELETE CASCADE,
            job_number INTEGER NOT NULL REFERENCES jobs (number) ON DELETE CASCADE,
            time INTEGER NOT NULL,
            vals TEXT NOT NULL
        );
        INSERT INTO condition_events_v3 SELECT id, condition_id, job_number, time, vals FROM condition_events
            WHERE condition_id IN (SELECT id FROM conditions_v3) AND job_number IN (SELECT number FROM jobs);
        DROP TABLE condition_events;
        DROP TABLE conditions;
        ALTER TABLE conditions_v3 RENAME TO conditions;
        ALTER TABLE condition_events_v3 RENAME TO condition_events;
        CREATE INDEX condition_events_by_job ON condition_events (job_number);

        CREATE TABLE notifications_v3 (
            id INTEGER PRIMARY KEY,
            job_number INTEGER REFERENCES jobs (number) ON DELETE CASCADE,
            time INTEGER NOT NULL,
            event TEXT NOT NULL,
            channel TEXT NOT NULL,
            status INTEGER NOT NULL,
            reason TEXT,
            attempt INTEGER NOT NULL,
            summary TEXT
        );
        INSERT INTO notifications_v3 SELECT id, job_number, time, event, channel, status, reason, attempt, summary FROM notifications
            WHERE job_number IS NULL OR job_number IN (SELECT number FROM jobs);
        DROP TABLE notifications;
        ALTER TABLE notifications_v3 RENAME TO notifications;
        CREATE INDEX notifications_by_job ON notifications (job_number, id);
        CREATE INDEX conditions_by_job ON conditions (job_number);
        CREATE INDEX condition_events_by_condition ON condition_events (condition_id);
        """,
        // 4: what a job asks of the queue (priority, GPUs as quarters, GPU ids) and what it got (GPUs, slot).
        """
        ALTER TABLE jobs ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE jobs ADD COLUMN gpu_quarters INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE jobs ADD COLUMN gpu_ids TEXT;
        ALTER TABLE jobs ADD COLUMN gpus TEXT;
        ALTER TABLE jobs ADD COLUMN slot INTEGER;
        """,
        // 5: scalars read from the job's output (submit --scalars-from-output): '' for the default patterns, or the
        // user's --scalar-pattern; NULL: not read.
        """
        ALTER TABLE jobs ADD COLUMN scalar_pattern TEXT;
        """,
        // 6: dependencies (submit --after, --after-any: job numbers "3,4"), the timeout, retries and their delay, the
        // stop condition, the attempt running or last run and when a pending retry starts; every ended attempt; what a
        // condition does when met (0 notify, 1 stop).
        """
        ALTER TABLE jobs ADD COLUMN after_jobs TEXT;
        ALTER TABLE jobs ADD COLUMN after_any_jobs TEXT;
        ALTER TABLE jobs ADD COLUMN timeout_seconds INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE jobs ADD COLUMN retries INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE jobs ADD COLUMN retry_delay_seconds INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE jobs ADD COLUMN stop_if TEXT;
        ALTER TABLE jobs ADD COLUMN attempt INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE jobs ADD COLUMN retry_at INTEGER;
        CREATE TABLE job_attempts (
            job_number INTEGER NOT NULL REFERENCES jobs (number) ON DELETE CASCADE,
            attempt INTEGER NOT NULL,
            started_at INTEGER,
            finished_at INTEGER NOT NULL,
            exit_code INTEGER,
            reason TEXT,
            PRIMARY KEY (job_number, attempt)
        );
        ALTER TABLE conditions ADD COLUMN action INTEGER NOT NULL DEFAULT 0;
        """,
        // 7: each chunk's extent and extremes, so a chart of millions of points reads one row per chunk, not every point
        // (ScalarBuckets). Chunks written before have NULLs and are decoded instead.
        """
        ALTER TABLE scalar_chunks ADD COLUMN min_step INTEGER;
        ALTER TABLE scalar_chunks ADD COLUMN max_step INTEGER;
        ALTER TABLE scalar_chunks ADD COLUMN min_time INTEGER;
        ALTER TABLE scalar_chunks ADD COLUMN max_time INTEGER;
        ALTER TABLE scalar_chunks ADD COLUMN lo REAL;
        ALTER TABLE scalar_chunks ADD COLUMN lo_step INTEGER;
        ALTER TABLE scalar_chunks ADD COLUMN lo_time INTEGER;
        ALTER TABLE scalar_chunks ADD COLUMN hi REAL;
        ALTER TABLE scalar_chunks ADD COLUMN hi_step INTEGER;
        ALTER TABLE scalar_chunks ADD COLUMN hi_time INTEGER;
        """,
        // 8: each attempt of a job (submit --retries) has its own scalars: a scalar name is per (job, attempt). SQLite
        // cannot change a UNIQUE constraint: the table is rebuilt, ids kept (chunks refer to them). Scalars stored
        // before are the job's latest attempt's (they were shown so).
        """
        CREATE TABLE scalar_names_v8 (
            id INTEGER PRIMARY KEY,
            job_number INTEGER NOT NULL REFERENCES jobs (number) ON DELETE CASCADE,
            attempt INTEGER NOT NULL,
            name TEXT NOT NULL,
            last_step INTEGER NOT NULL,
            last_value REAL,
            last_wall_time_us INTEGER NOT NULL,
            count INTEGER NOT NULL,
            UNIQUE (job_number, attempt, name)
        );
        INSERT INTO scalar_names_v8 SELECT n.id, n.job_number, MAX(1, j.attempt), n.name, n.last_step, n.last_value,
            n.last_wall_time_us, n.count FROM scalar_names n JOIN jobs j ON j.number = n.job_number;
        DROP TABLE scalar_names;
        ALTER TABLE scalar_names_v8 RENAME TO scalar_names;
        """,
        // 9: the chunk extents of schema 7 sit after the three blobs in each row (ALTER TABLE appends), so reading them
        // walked every blob's overflow pages: a chart of 10,000,000 points read 240 MB through the page cache. This
        // index holds the extents alone (ScalarBuckets reads only it): a chart reads a few hundred KB.
        """
        CREATE INDEX scalar_chunk_extents ON scalar_chunks (name_id, count, min_step, max_step, lo, lo_step, hi, hi_step,
            min_time, max_time, lo_time, hi_time);
        """,
        // 10: job_events was written at every change of state and read by nothing: what a job went through is its row
        // (created, started, finished, exit code, reason) and job_attempts. Its two pages (row and index) were a third
        // of what each start and end wrote (bench/parallel.sh).
        """
        DROP TABLE job_events;
        """,
    ];
}
