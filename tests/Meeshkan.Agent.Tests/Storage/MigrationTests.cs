using Meeshkan.Agent.Executors.Local;
using Meeshkan.Agent.Store;
using Meeshkan.Testing;
using Microsoft.Data.Sqlite;

namespace Meeshkan.Agent.Tests.Storage;

/// <summary>A database written by the release before the schema migrations of "one owner for a job's life" opens with everything in it.</summary>
[TestFixture]
public sealed class MigrationTests
{
    // The schema as the previous release created it (Database migration 1, PRAGMA user_version = 1), copied here on
    // purpose: this test must keep describing that file even when the migrations move on.
    private const string PreviousReleaseSchema = """
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
        """;

    private string _folder = null!;

    [SetUp]
    public void SetUp() => _folder = Directory.CreateTempSubdirectory("mk-migrate-").FullName;

    [TearDown]
    public void TearDown()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
    }

    [Test]
    public void A_database_of_the_previous_release_keeps_its_jobs_scalars_conditions_and_notifications()
    {
        var path = Path.Combine(_folder, "meeshkan.db");
        WritePreviousRelease(path);

        var database = new Database(path);
        database.Migrate();
        var jobs = new JobStore(database, TimeProvider.System);

        var all = jobs.List();
        Assert.That(all.Select(j => (j.Number, j.Name, j.State)), Is.EqualTo(new[]
        {
            (1L, "done", JobState.Finished), (2L, "train", JobState.Running), (3L, "next", JobState.Queued),
        }));
        var running = jobs.GetByNumber(2)!;
        Assert.That((running.Executor, running.ExecutorReference, running.Pid), Is.EqualTo(("local", "4242:987654", (int?)4242)),
            "the local executor's reference is made from the old pid and start ticks");
        Assert.That(LocalExecutor.Parse(running.ExecutorReference), Is.EqualTo((4242, (long?)987654)));
        Assert.That(jobs.GetByNumber(1)!.ExitCode, Is.EqualTo(0));
        Assert.That(jobs.Queued(10).Single().Environment!["HOME"], Is.EqualTo("/home/u"));

        var scalars = new ScalarStore(database);
        Assert.That(scalars.Latest(2).Single().Name, Is.EqualTo("loss"));
        Assert.That(scalars.History(2, "loss")!.Select(p => p.Value), Is.EqualTo(new[] { 0.5, 0.25 }));
        var conditions = new ConditionStore(database);
        Assert.That(conditions.ForJob(2).Single().Expression, Is.EqualTo("loss < 0.3"));
        Assert.That(conditions.ConditionEvents(2).Single().Values["loss"], Is.EqualTo(0.25));
        var notifications = new NotificationStore(database, TimeProvider.System);
        Assert.That(notifications.ForJob(1).Select(n => n.Event), Is.EqualTo(new[] { "job_started", "job_finished" }));

        using var connection = database.Open();
        Assert.That(Database.Scalar<long>(connection, "PRAGMA user_version;"), Is.GreaterThanOrEqualTo(3));
    }

    [Test]
    public void Clearing_ended_jobs_takes_everything_stored_for_them_and_nothing_else()
    {
        var path = Path.Combine(_folder, "meeshkan.db");
        WritePreviousRelease(path);
        // The ended job gets scalars and a condition too.
        using (var connection = new SqliteConnection($"Data Source={path}"))
        {
            connection.Open();
            WriteScalarsAsBefore(connection, 2, 1, "acc", [0.9], 1700000000150000);
            Execute(connection, """
                INSERT INTO conditions VALUES ('c1', 1, 'acc > 0.8', '["acc"]', 'acc > 0.8', 0, 0, 60, NULL);
                INSERT INTO condition_events VALUES (2, 'c1', 1, 1700000000000, '{"acc":0.9}');
                """);
        }
        var database = new Database(path);
        database.Migrate();
        var jobs = new JobStore(database, TimeProvider.System);

        Assert.That(jobs.DeleteEnded().Select(j => j.Number), Is.EqualTo(new[] { 1L }));

        using var db = database.Open();
        foreach (var (table, column) in new[] { ("scalar_names", "job_number"), ("conditions", "job_number"),
                     ("condition_events", "job_number"), ("notifications", "job_number") })
        {
            Assert.That(Database.Scalar<long>(db, $"SELECT COUNT(*) FROM {table} WHERE {column} = 1"), Is.Zero, table);
            Assert.That(Database.Scalar<long>(db, $"SELECT COUNT(*) FROM {table} WHERE {column} = 2"), Is.Positive, table + " of the running job");
        }
        Assert.That(Database.Scalar<long>(db, "SELECT COUNT(*) FROM scalar_chunks"), Is.EqualTo(1), "only the running job's chunk is left");
        Assert.That(new ScalarStore(database).History(2, "loss")!.Select(p => p.Value), Is.EqualTo(new[] { 0.5, 0.25 }));
        Assert.That(Database.Scalar<long>(db, "SELECT COUNT(*) FROM notifications WHERE job_number IS NULL"), Is.EqualTo(1), "the agent's own");
        Assert.That(jobs.List().Select(j => j.Number), Is.EqualTo(new[] { 2L, 3L }));
    }

    [TestCase(1)]
    [TestCase(2)]
    [TestCase(3)]
    [TestCase(4)]
    [TestCase(5)]
    [TestCase(6)]
    [TestCase(7)]
    [TestCase(8)]
    public void A_database_of_every_earlier_schema_version_migrates_and_keeps_its_jobs_and_charts(int version)
    {
        var path = Path.Combine(_folder, "meeshkan.db");
        WritePreviousRelease(path);
        // The file as the release of that schema left it: the migrations up to it, then what that release wrote.
        new Database(path).MigrateTo(version);
        using (var connection = new SqliteConnection($"Data Source={path}"))
        {
            connection.Open();
            Assert.That(Database.Scalar<long>(connection, "PRAGMA user_version;"), Is.EqualTo(version));
            if (version >= 4)
            {
                Execute(connection, "UPDATE jobs SET priority = 7, gpu_quarters = 8, gpus = '0,1', slot = 0 WHERE number = 2;");
            }
            if (version >= 6)
            {
                // Retried: its scalars so far were shown as its latest attempt's, and stay so.
                Execute(connection, "UPDATE jobs SET retries = 2, attempt = 2 WHERE number = 2;");
            }
            if (version >= 8)
            {
                // That release kept scalars per attempt: these are attempt 2's.
                Execute(connection, "UPDATE scalar_names SET attempt = 2 WHERE job_number = 2;");
            }
        }
        SqliteConnection.ClearAllPools();

        var database = new Database(path);
        database.Migrate();

        using (var connection = database.Open())
        {
            Assert.That(Database.Scalar<long>(connection, "PRAGMA user_version;"), Is.EqualTo(Database.LatestVersion));
        }
        var jobs = new JobStore(database, TimeProvider.System);
        Assert.That(jobs.List().Select(j => (j.Number, j.Name, j.State)), Is.EqualTo(new[]
        {
            (1L, "done", JobState.Finished), (2L, "train", JobState.Running), (3L, "next", JobState.Queued),
        }));
        var running = jobs.GetByNumber(2)!;
        Assert.That(running.ExecutorReference, Is.EqualTo("4242:987654"));
        if (version >= 4)
        {
            Assert.That((running.Priority, running.GpuQuarters, running.Gpus, running.Slot), Is.EqualTo((7, 8, new[] { 0, 1 }, (int?)0)));
        }

        // A chart of the chunks written before extents were kept: decoded, every point there.
        var buckets = new ScalarBuckets(database);
        var before = buckets.Read(2, "loss", ScalarBuckets.Axis.Step, null, null, 100)!;
        Assert.That((before.Points, before.Decoded), Is.EqualTo((2L, 2L)));
        Assert.That(before.Y, Is.EqualTo(new[] { 0.5, 0.25 }));

        // New points go on after the old ones, with their extents; both read together.
        var scalars = new ScalarStore(database);
        scalars.Append(2, running.ReportingAttempt, ScalarBatches.Of("a2", ("loss", 0.125), ("loss", 2.0)), 1700000000500000);
        Assert.That(scalars.History(2, "loss")!.Select(p => (p.Step, p.Value)), Is.EqualTo(new[] { (0L, 0.5), (1L, 0.25), (2L, 0.125), (3L, 2.0) }));
        var after = buckets.Read(2, "loss", ScalarBuckets.Axis.Step, null, null, 100)!;
        Assert.That(after.Points, Is.EqualTo(4));
        Assert.That(after.Y.Max(), Is.EqualTo(2.0));
        Assert.That(after.Y.Min(), Is.EqualTo(0.125));
        if (version >= 6)
        {
            Assert.That(scalars.Latest(2, 2).Single().Count, Is.EqualTo(4), "the old points are the latest attempt's");
            Assert.That(scalars.Latest(2, 1), Is.Empty);
        }
    }

    private static void WritePreviousRelease(string path)
    {
        using var connection = new SqliteConnection($"Data Source={path}");
        connection.Open();
        Execute(connection, PreviousReleaseSchema + "PRAGMA user_version=1;");
        // One finished job, one running (pid 4242), one queued; states are the previous release's numbers (proto's).
        Execute(connection, """
            INSERT INTO jobs (number, id, name, state, command, working_directory, environment, report_interval, created_at,
                started_at, finished_at, exit_code, failure_reason, external, pid, pid_start_ticks, output_directory) VALUES
              (1, 'a1', 'done', 3, '["/bin/true"]', '/tmp', NULL, 60, 1700000000000, 1700000000100, 1700000000200, 0, NULL, 0, 4000, 11, '/tmp/j1'),
              (2, 'a2', 'train', 2, '["/usr/bin/python3","t.py"]', '/tmp', NULL, 60, 1700000000000, 1700000000300, NULL, NULL, NULL, 0, 4242, 987654, '/tmp/j2'),
              (3, 'a3', 'next', 1, '["/bin/true"]', '/tmp', '{"HOME":"/home/u"}', 60, 1700000000000, NULL, NULL, NULL, NULL, 0, NULL, NULL, '/tmp/j3');
            INSERT INTO job_events VALUES (1, 1700000000000, 1, NULL), (1, 1700000000200, 3, 'exit 0'), (2, 1700000000300, 2, 'pid 4242');
            INSERT INTO conditions VALUES ('c2', 2, 'loss < 0.3', '["loss"]', 'loss < 0.3', 0, 0, 60, 1700000000400);
            INSERT INTO condition_events VALUES (1, 'c2', 2, 1700000000400, '{"loss":0.25}');
            INSERT INTO notifications (job_number, time, event, channel, status, reason, attempt, summary) VALUES
              (1, 1700000000100, 'job_started', 'history', 1, NULL, 1, 'started'),
              (1, 1700000000200, 'job_finished', 'history', 1, NULL, 1, 'finished'),
              (2, 1700000000300, 'job_started', 'history', 1, NULL, 1, 'started'),
              (NULL, 1700000000300, 'agent', 'history', 1, NULL, 1, 'agent note');
            """);
        // Scalars in the chunk format of that release (its blobs are still read as they are; later releases add columns).
        WriteScalarsAsBefore(connection, 1, 2, "loss", [0.5, 0.25], 1700000000400000);
    }

    /// <summary>One scalar of a job as releases before chunk extents (schema 7) stored it: a name row and one chunk of
    /// consecutive steps from 0 (empty steps blob), values and wall times as little-endian arrays.</summary>
    private static void WriteScalarsAsBefore(SqliteConnection connection, long nameId, long job, string name, double[] values, long wallTimeUs)
    {
        var times = Enumerable.Repeat(wallTimeUs, values.Length).ToArray();
        using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO scalar_names (id, job_number, name, last_step, last_value, last_wall_time_us, count) VALUES ($id, $job, $name, $last, $value, $time, $count);
            INSERT INTO scalar_chunks (name_id, first_step, count, steps, vals, wall_times) VALUES ($id, 0, $count, x'', $vals, $times);
            """;
        command.Parameters.AddWithValue("$id", nameId);
        command.Parameters.AddWithValue("$job", job);
        command.Parameters.AddWithValue("$name", name);
        command.Parameters.AddWithValue("$last", values.Length - 1);
        command.Parameters.AddWithValue("$value", values[^1]);
        command.Parameters.AddWithValue("$time", wallTimeUs);
        command.Parameters.AddWithValue("$count", values.Length);
        command.Parameters.AddWithValue("$vals", System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).ToArray());
        command.Parameters.AddWithValue("$times", System.Runtime.InteropServices.MemoryMarshal.AsBytes(times.AsSpan()).ToArray());
        command.ExecuteNonQuery();
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
