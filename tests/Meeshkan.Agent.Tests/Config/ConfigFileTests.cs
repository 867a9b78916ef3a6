using Meeshkan.Agent.Config;

namespace Meeshkan.Agent.Tests.Config;

/// <summary>The config file holds webhook URLs and an SMTP password: private from its first byte, other keys kept.</summary>
[TestFixture]
public sealed class ConfigFileTests
{
    private string _folder = null!;

    [SetUp]
    public void MakeFolder() => _folder = Directory.CreateTempSubdirectory("mk-config-").FullName;

    [TearDown]
    public void RemoveFolder() => Directory.Delete(_folder, recursive: true);

    [Test]
    public void Save_never_lets_a_file_in_the_folder_be_readable_by_others()
    {
        var path = Path.Combine(_folder, "config");
        var seen = new List<string>();
        using var watcher = new FileSystemWatcher(_folder) { NotifyFilter = NotifyFilters.FileName | NotifyFilters.Size | NotifyFilters.LastWrite };
        void Check(object _, FileSystemEventArgs e)
        {
            try
            {
                var mode = File.GetUnixFileMode(e.FullPath);
                lock (seen)
                {
                    seen.Add($"{e.Name} {Convert.ToString((int)mode, 8)}");
                }
            }
            catch (IOException)
            {
                // Renamed away already.
            }
        }
        watcher.Created += Check;
        watcher.Changed += Check;
        watcher.EnableRaisingEvents = true;
        var secret = new string('s', 4 << 20); // a large write: a file created with default permissions would be seen open
        for (var i = 0; i < 5; i++)
        {
            new AgentConfig { Notifications = new NotificationSettings { Slack = new SlackSettings { WebhookUrl = "https://hooks.slack.com/services/" + secret } } }.Save(path);
        }
        Thread.Sleep(300);
        watcher.EnableRaisingEvents = false;

        Assert.That(File.GetUnixFileMode(path), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));
        lock (seen)
        {
            Assert.That(seen, Is.Not.Empty, "the watcher saw the writes");
            Assert.That(seen.Where(s => !s.EndsWith(" 600", StringComparison.Ordinal)), Is.Empty);
        }
        Assert.That(Directory.GetFiles(_folder), Is.EqualTo(new[] { path }), "no temporary file is left");
    }

    [Test]
    public void Save_keeps_the_settings_it_does_not_know_such_as_the_clis_remotes()
    {
        var path = Path.Combine(_folder, "config");
        File.WriteAllText(path, """
            { "python": "/usr/bin/python3",
              "remotes": { "box": { "address": "https://box:7600", "token": "t", "fingerprint": "AB" } } }
            """);
        var config = AgentConfig.Load(path);
        config.CancelGraceSeconds = 3;
        config.Save(path);

        var saved = File.ReadAllText(path);
        Assert.That(saved, Does.Contain("\"cancel_grace_seconds\": 3").And.Contain("\"remotes\"").And.Contain("https://box:7600"));
    }
}
