using Google.Protobuf.WellKnownTypes;
using System.Text.Json;
using Meeshkan.V1;

namespace Meeshkan.Agent.Store;

/// <summary>Jobs' conditions and their firings in SQLite (tables conditions and condition_events).</summary>
public sealed class ConditionStore(Database database)
{
    /// <summary>One row of the conditions table. <see cref="Expression"/> is null for client-evaluated conditions.</summary>
    public sealed record StoredCondition(
        string Id, long JobNumber, string? Expression, IReadOnlyList<string> Names, string Description,
        bool EvaluatedByClient, bool OnlyReported, int CooldownSeconds, DateTimeOffset? LastFiredAt, bool Stops = false);

    public void Insert(StoredCondition condition)
    {
        using var connection = database.OpenToWrite();
        using var command = connection.CreateCommand();
        command.CommandText =
            "INSERT INTO conditions (id, job_number, expression, names, description, evaluated_by_client, only_reported, cooldown_seconds, last_fired_at, action) " +
            "VALUES ($id, $job, $expression, $names, $description, $client, $only, $cooldown, $fired, $action)";
        command.Parameters.AddWithValue("$id", condition.Id);
        command.Parameters.AddWithValue("$job", condition.JobNumber);
        command.Parameters.AddWithValue("$expression", (object?)condition.Expression ?? DBNull.Value);
        command.Parameters.AddWithValue("$names", JsonSerializer.Serialize(condition.Names, AgentJson.Default.IReadOnlyListString));
        command.Parameters.AddWithValue("$description", condition.Description);
        command.Parameters.AddWithValue("$client", condition.EvaluatedByClient ? 1 : 0);
        command.Parameters.AddWithValue("$only", condition.OnlyReported ? 1 : 0);
        command.Parameters.AddWithValue("$cooldown", condition.CooldownSeconds);
        command.Parameters.AddWithValue("$fired", condition.LastFiredAt is { } t ? t.ToUnixTimeMilliseconds() : DBNull.Value);
        command.Parameters.AddWithValue("$action", condition.Stops ? 1 : 0);
        command.ExecuteNonQuery();
    }

    /// <summary>A job's conditions, in the order they were added.</summary>
    public IReadOnlyList<StoredCondition> ForJob(long jobNumber)
    {
        using var connection = database.Open();
        using var command = connection.CreateCommand();
        command.CommandText =
            "SELECT id, expression, names, description, evaluated_by_client, only_reported, cooldown_seconds, last_fired_at, action " +
            "FROM conditions WHERE job_number = $job ORDER BY rowid";
        command.Parameters.AddWithValue("$job", jobNumber);
        using var reader = command.ExecuteReader();
        var result = new List<StoredCondition>();
        while (reader.Read())
        {
            result.Add(new StoredCondition(
                reader.GetString(0), jobNumber, reader.IsDBNull(1) ? null : reader.GetString(1),
                JsonSerializer.Deserialize(reader.GetString(2), AgentJson.Default.StringArray) ?? [], reader.GetString(3),
                reader.GetInt64(4) != 0, reader.GetInt64(5) != 0, reader.GetInt32(6),
                reader.IsDBNull(7) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(7)), reader.GetInt64(8) == 1));
        }
        return result;
    }

    /// <summary>Stores one firing and moves the condition's cooldown start, in one transaction.</summary>
    public void RecordFiring(string conditionId, long jobNumber, DateTimeOffset time, IReadOnlyDictionary<string, double> values)
    {
        using var connection = database.OpenToWrite();
        using var transaction = connection.BeginTransaction();
        using (var insert = connection.CreateCommand())
        {
            insert.Transaction = transaction;
            insert.CommandText = "INSERT INTO condition_events (condition_id, job_number, time, vals) VALUES ($id, $job, $time, $vals)";
            insert.Parameters.AddWithValue("$id", conditionId);
            insert.Parameters.AddWithValue("$job", jobNumber);
            insert.Parameters.AddWithValue("$time", time.ToUnixTimeMilliseconds());
            insert.Parameters.AddWithValue("$vals", JsonSerializer.Serialize(values, ValuesJson.IReadOnlyDictionaryStringDouble));
            insert.ExecuteNonQuery();
        }
        using (var update = connection.CreateCommand())
        {
            update.Transaction = transaction;
            update.CommandText = "UPDATE conditions SET last_fired_at = $time WHERE id = $id";
            update.Parameters.AddWithValue("$id", conditionId);
            update.Parameters.AddWithValue("$time", time.ToUnixTimeMilliseconds());
            update.ExecuteNonQuery();
        }
        transaction.Commit();
    }

    /// <summary>Every condition firing recorded for a job, oldest first.</summary>
    public IReadOnlyList<ConditionEvent> ConditionEvents(long jobNumber)
    {
        using var connection = database.Open();
        using var command = connection.CreateCommand();
        command.CommandText =
            "SELECT e.condition_id, c.description, e.time, e.vals, c.action FROM condition_events e JOIN conditions c ON c.id = e.condition_id " +
            "WHERE e.job_number = $job ORDER BY e.id";
        command.Parameters.AddWithValue("$job", jobNumber);
        using var reader = command.ExecuteReader();
        var events = new List<ConditionEvent>();
        while (reader.Read())
        {
            var evt = new ConditionEvent
            {
                ConditionId = reader.GetString(0),
                Description = reader.GetString(1),
                Time = Timestamp.FromDateTimeOffset(DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(2))),
                Action = reader.GetInt64(4) == 1 ? ConditionAction.Stop : ConditionAction.Notify,
            };
            foreach (var (name, value) in JsonSerializer.Deserialize(reader.GetString(3), ValuesJson.DictionaryStringDouble)!)
            {
                evt.Values[name] = value;
            }
            events.Add(evt);
        }
        return events;
    }

    /// <summary>JSON that keeps NaN and infinities (as strings).</summary>
    private static readonly AgentJson ValuesJson = new(new JsonSerializerOptions
    {
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    });
}
