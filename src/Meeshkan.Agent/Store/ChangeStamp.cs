namespace Meeshkan.Agent.Store;

/// <summary>
/// A cheap reading of what was added to the file (newest job, job count, newest notification and condition firing),
/// compared between two readings by the dashboard to learn of submissions, `clear` and new notifications.
/// </summary>
public sealed class ChangeStamp(Database database)
{
    public readonly record struct Reading(long NewestJob, long Jobs, long NewestNotification, long NewestConditionEvent);

    public Reading Read()
    {
        using var connection = database.Open();
        using var command = connection.CreateCommand();
        command.CommandText =
            "SELECT (SELECT COALESCE(MAX(number), 0) FROM jobs), (SELECT COUNT(*) FROM jobs), " +
            "(SELECT COALESCE(MAX(id), 0) FROM notifications), (SELECT COALESCE(MAX(id), 0) FROM condition_events)";
        using var reader = command.ExecuteReader();
        reader.Read();
        return new Reading(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3));
    }

    /// <summary>The jobs that got a notification or a condition firing after the given reading.</summary>
    public IReadOnlyList<long> JobsTouchedSince(Reading since)
    {
        using var connection = database.Open();
        using var command = connection.CreateCommand();
        command.CommandText =
            "SELECT job_number FROM notifications WHERE id > $n AND job_number IS NOT NULL " +
            "UNION SELECT job_number FROM condition_events WHERE id > $c";
        command.Parameters.AddWithValue("$n", since.NewestNotification);
        command.Parameters.AddWithValue("$c", since.NewestConditionEvent);
        using var reader = command.ExecuteReader();
        var jobs = new List<long>();
        while (reader.Read())
        {
            jobs.Add(reader.GetInt64(0));
        }
        return jobs;
    }
}
