using Microsoft.Data.Sqlite;

namespace Meeshkan.Agent.Store;

/// <summary>
/// The agent's SQLite file: opens connections and keeps the schema current.
/// Every SQL statement of the agent lives in this folder.
/// </summary>
public sealed class Database
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

    /// <summary>An open connection (from the pool) with the agent's pragmas set.</summary>
    public SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
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
        catch (SqliteException e)
        {
            var what = e.SqliteErrorCode is 5 or 6 ? "is locked by another process" : "cannot be used";
            throw new InvalidDataException(
                $"the database {Path} {what} ({e.Message.TrimEnd('.')}); it was left as it is: " +
                (e.SqliteErrorCode is 5 or 6 ? "close the other program and start again" : "move it aside to start with an empty queue"), e);
        }
    }

    private void MigrateFile()
    {
        var existed = File.Exists(Path);
        using var connection = Open();
        if (!existed)
        {
            File.SetUnixFileMode(Path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        Execute(connection, "PRAGMA journal_mode=WAL;");
        var version = Scalar<long>(connection, "PRAGMA user_version;");
        for (var v = (int)version; v < Migrations.Length; v++)
        {
            using var transaction = connection.BeginTransaction();
            Execute(connection, Migrations[v], transaction);
            Execute(connection, $"PRAGMA user_version={v + 1};", transaction);
            transaction.Commit();
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
    ];
}
