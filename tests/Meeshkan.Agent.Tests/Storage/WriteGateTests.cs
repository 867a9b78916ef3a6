using Meeshkan.Agent.Store;

namespace Meeshkan.Agent.Tests.Storage;

/// <summary>The agent's writes go in one at a time: a second writer waits for the first, then goes on at once.</summary>
[TestFixture]
public sealed class WriteGateTests
{
    private string _folder = null!;

    [SetUp]
    public void MakeFolder() => _folder = Directory.CreateTempSubdirectory("mk-gate-").FullName;

    [TearDown]
    public void RemoveFolder() => Directory.Delete(_folder, recursive: true);

    [Test]
    public void A_second_write_waits_for_the_first_and_goes_on_when_it_is_disposed()
    {
        var database = new Database(Path.Combine(_folder, "meeshkan.db"));
        database.Migrate();
        var first = database.OpenToWrite();
        var second = Task.Run(() =>
        {
            using var connection = database.OpenToWrite();
            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA user_version";
            return command.ExecuteScalar();
        });
        Assert.That(second.Wait(TimeSpan.FromMilliseconds(300)), Is.False, "it waits while the first is open");
        first.Dispose();
        Assert.That(second.Wait(TimeSpan.FromSeconds(5)), Is.True, "it goes on once the first is disposed");
        first.Dispose();
        using var third = database.OpenToWrite();
        Assert.That(third.Connection.State, Is.EqualTo(System.Data.ConnectionState.Open), "disposing twice lets only one writer in");
    }

    [Test]
    public void Reads_never_wait_for_a_write()
    {
        var database = new Database(Path.Combine(_folder, "meeshkan.db"));
        database.Migrate();
        using var writer = database.OpenToWrite();
        var read = Task.Run(() =>
        {
            using var connection = database.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT COUNT(*) FROM jobs";
            return command.ExecuteScalar();
        });
        Assert.That(read.Wait(TimeSpan.FromSeconds(5)), Is.True);
    }
}
