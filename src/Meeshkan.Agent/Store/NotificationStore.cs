using Google.Protobuf.WellKnownTypes;
using Meeshkan.V1;
using Microsoft.Data.Sqlite;

namespace Meeshkan.Agent.Store;

/// <summary>Every notification attempt, per job and channel.</summary>
public sealed class NotificationStore(Database database, TimeProvider time)
{
    private readonly Lock _latestGate = new();
    private readonly Dictionary<long, NotificationRecord> _latest = [];
    private long _latestSeenId;
    private int _latestDeletions;

    public void Record(long? jobNumber, string eventName, string channel, NotificationStatus status, string? reason, int attempt, string? summary)
    {
        using var connection = database.OpenToWrite();
        var command = InsertCommand(connection, null);
        Insert(command, jobNumber, eventName, channel, status, reason, attempt, summary);
    }

    /// <summary>The history rows of notifications as they were composed (channel "history"), in one transaction.</summary>
    public void RecordHistory(IEnumerable<(long? JobNumber, string EventName, string? Reason, string Summary)> rows)
    {
        using var connection = database.OpenToWrite();
        using var transaction = connection.BeginTransaction();
        var command = InsertCommand(connection, transaction);
        foreach (var row in rows)
        {
            Insert(command, row.JobNumber, row.EventName, "history", NotificationStatus.Success, row.Reason, 1, row.Summary);
        }
        transaction.Commit();
    }

    /// <summary>The kept command that adds a row (not to be disposed).</summary>
    private static SqliteCommand InsertCommand(Database.Writer connection, SqliteTransaction? transaction) =>
        connection.Prepared(
            "INSERT INTO notifications (job_number, time, event, channel, status, reason, attempt, summary) " +
            "SELECT $job, $time, $event, $channel, $status, $reason, $attempt, $summary " +
            // A delivery that ends after `clear` deleted its job is not kept (the row would refer to no job).
            "WHERE $job IS NULL OR EXISTS (SELECT 1 FROM jobs WHERE number = $job)", transaction);

    private void Insert(SqliteCommand command, long? jobNumber, string eventName, string channel, NotificationStatus status, string? reason, int attempt, string? summary)
    {
        command.Parameters.Clear();
        command.Parameters.AddWithValue("$job", jobNumber is { } n ? n : DBNull.Value);
        command.Parameters.AddWithValue("$time", time.GetUtcNow().ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$event", eventName);
        command.Parameters.AddWithValue("$channel", channel);
        command.Parameters.AddWithValue("$status", (int)status);
        command.Parameters.AddWithValue("$reason", (object?)reason ?? DBNull.Value);
        command.Parameters.AddWithValue("$attempt", attempt);
        command.Parameters.AddWithValue("$summary", (object?)summary ?? DBNull.Value);
        command.ExecuteNonQuery();
    }

    public IReadOnlyList<NotificationRecord> ForJob(long jobNumber)
    {
        using var connection = database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT time, event, channel, status, reason, attempt, summary, job_number FROM notifications WHERE job_number = $job ORDER BY id";
        command.Parameters.AddWithValue("$job", jobNumber);
        return Read(command).Select(r => r.Record).ToList();
    }

    /// <summary>The latest attempt of each job, for `meeshkan list`.</summary>
    public IReadOnlyDictionary<long, NotificationRecord> LatestPerJob()
    {
        // Attempts are only ever inserted: read the ones added since the last call, not the whole history again.
        lock (_latestGate)
        {
            if (_latestDeletions != database.Deletions)
            {
                _latestDeletions = database.Deletions;
                _latest.Clear();
                _latestSeenId = 0;
            }
            using var connection = database.Open();
            using var command = connection.CreateCommand();
            command.CommandText =
                "SELECT time, event, channel, status, reason, attempt, summary, job_number, id FROM notifications " +
                "WHERE id > $seen AND job_number IS NOT NULL ORDER BY id";
            command.Parameters.AddWithValue("$seen", _latestSeenId);
            foreach (var (job, record, id) in Read(command))
            {
                _latest[job] = record;
                _latestSeenId = id;
            }
            return new Dictionary<long, NotificationRecord>(_latest);
        }
    }

    private static List<(long Job, NotificationRecord Record, long Id)> Read(SqliteCommand command)
    {
        using var reader = command.ExecuteReader();
        var records = new List<(long, NotificationRecord, long)>();
        while (reader.Read())
        {
            records.Add((reader.IsDBNull(7) ? 0 : reader.GetInt64(7), new NotificationRecord
            {
                Time = Timestamp.FromDateTimeOffset(DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(0))),
                Event = reader.GetString(1),
                Channel = reader.GetString(2),
                Status = (NotificationStatus)reader.GetInt32(3),
                Reason = reader.IsDBNull(4) ? "" : reader.GetString(4),
                Attempt = reader.GetInt32(5),
                Summary = reader.IsDBNull(6) ? "" : reader.GetString(6),
            }, reader.FieldCount > 8 ? reader.GetInt64(8) : 0));
        }
        return records;
    }
}
