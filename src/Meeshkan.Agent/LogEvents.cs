namespace Meeshkan.Agent;

/// <summary>
/// The agent's log event ids: each area logs with ids from its own hundred, so an id names one kind of line
/// (tests/Meeshkan.Agent.Tests/LogEventTests.cs checks that ids are unique and each hundred is one namespace).
/// </summary>
internal static class LogEvents
{
    /// <summary>Jobs/ (every change of a job's state): 1-99.</summary>
    public const int Jobs = 0;

    /// <summary>Notifications/: 100-199.</summary>
    public const int Notifications = 100;

    /// <summary>Conditions/: 200-299.</summary>
    public const int Conditions = 200;

    /// <summary>Remote/ (the TLS listener): 300-399.</summary>
    public const int Remote = 300;

    /// <summary>Telegram/: 400-499.</summary>
    public const int Telegram = 400;

    /// <summary>Hosting/ and Store/ (the data folder, the disk): 500-599.</summary>
    public const int Hosting = 500;

    /// <summary>Scalars/ (scalars a client could not send, read from the job folder): 600-699.</summary>
    public const int Scalars = 600;

    /// <summary>Scheduler/ (the run loop): 700-799.</summary>
    public const int Scheduler = 700;

    /// <summary>Executors/ (Local/: 800-849; a further executor takes the next fifty).</summary>
    public const int Executors = 800;

    /// <summary>Executors/Slurm/: 850-899.</summary>
    public const int Slurm = Executors + 50;

    /// <summary>OutputScalars/ (scalars read from a job's output): 900-999.</summary>
    public const int OutputScalars = 900;

    /// <summary>Dashboard/ (the browser dashboard): 1000-1099.</summary>
    public const int Dashboard = 1000;
}
