using System.Diagnostics;
using System.Text.Json;
using Meeshkan.Testing;

namespace Meeshkan.Agent.Tests.Notifications;

/// <summary>`meeshkan setup` with channel flags and `--test`, run as the real executable against real receivers.</summary>
[TestFixture]
public sealed class SetupCommandTests
{
    private string _home = "";

    [SetUp]
    public void CreateHome() => _home = Directory.CreateTempSubdirectory("mk-setup-").FullName;

    [TearDown]
    public void RemoveHome() => Directory.Delete(_home, recursive: true);

    [Test]
    public void Flags_write_the_channels_to_a_private_config_and_never_print_secrets()
    {
        var (code, output) = Meeshkan("setup", "--slack-webhook", "https://hooks.slack.com/services/T/B/TOPSECRET",
            "--webhook-url", "https://example.org/hook", "--webhook-secret", "hmac-TOPSECRET",
            "--smtp-host", "smtp.example.org", "--smtp-user", "me", "--smtp-password", "pw-TOPSECRET",
            "--email-from", "ml@example.org", "--email-to", "a@example.org,b@example.org");

        Assert.That(code, Is.EqualTo(0), output);
        Assert.That(output, Does.Not.Contain("TOPSECRET"));
        Assert.That(output, Does.Contain("slack").And.Contain("webhook (signed)").And.Contain("smtp.example.org:587"));
        var path = Path.Combine(_home, "config");
        Assert.That(File.GetUnixFileMode(path), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));
        var n = JsonDocument.Parse(File.ReadAllText(path)).RootElement.GetProperty("notifications");
        Assert.That(n.GetProperty("slack").GetProperty("webhook_url").GetString(), Does.EndWith("TOPSECRET"));
        Assert.That(n.GetProperty("email").GetProperty("smtp_security").GetString(), Is.EqualTo("starttls"));
        Assert.That(n.GetProperty("email").GetProperty("to").GetArrayLength(), Is.EqualTo(2));

        (code, output) = Meeshkan("setup", "--no-slack", "--no-email");
        Assert.That(code, Is.EqualTo(0), output);
        n = JsonDocument.Parse(File.ReadAllText(path)).RootElement.GetProperty("notifications");
        Assert.That(n.TryGetProperty("slack", out _), Is.False);
        Assert.That(n.TryGetProperty("email", out _), Is.False);
        Assert.That(n.GetProperty("webhook").GetProperty("secret").GetString(), Is.EqualTo("hmac-TOPSECRET"), "other channels kept");

        (code, output) = Meeshkan("setup", "--discord-webhook", "not-a-url-TOPSECRET");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(output, Does.Contain("not an http(s) URL").And.Not.Contain("TOPSECRET"));
    }

    [Test]
    public void Test_sends_to_each_channel_and_says_which_worked()
    {
        using var slack = new HttpReceiver();
        using var smtp = new SmtpReceiver();
        var (code, output) = Meeshkan("setup", "--slack-webhook", slack.Url("/services/T/B/tok"),
            "--smtp-host", "127.0.0.1", "--smtp-port", smtp.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--smtp-security", "none", "--email-from", "ml@example.org", "--email-to", "me@example.org", "--test");

        Assert.That(code, Is.EqualTo(0), output);
        Assert.That(output, Does.Contain("slack: OK").And.Contain("email: OK"));
        Assert.That(ReceivedContent.BlockTypes(slack.WaitFor(1)[0].Json())[0], Is.EqualTo("header"));
        var mail = smtp.WaitFor(1)[0];
        Assert.That(mail.Subject, Is.EqualTo("[meeshkan] Meeshkan test notification"));
        Assert.That(mail.BodyParts.OfType<MimeKit.MimePart>().Any(p => p.ContentType.MimeType == "image/png"), "sample chart inline");

        // A dead channel: the test fails, and says which.
        (code, output) = Meeshkan("setup", "--webhook-url", $"http://127.0.0.1:{Ports.Free()}/hook", "--test");
        Assert.That(code, Is.Not.EqualTo(0));
        Assert.That(output, Does.Contain("webhook: FAILED (cannot connect: ConnectionRefused").And.Contain("slack: OK"));
    }

    private (int Code, string Output) Meeshkan(params string[] args)
    {
        var exe = global::Meeshkan.Testing.MeeshkanSandbox.Executable;
        if (!File.Exists(exe))
        {
            Assert.Ignore($"build the CLI first ({exe} is missing)");
        }
        var start = new ProcessStartInfo(exe)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        start.Environment["MEESHKAN_HOME"] = _home;
        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        Assert.That(process.WaitForExit(60_000), "meeshkan finished");
        return (process.ExitCode, stdout.Result + stderr.Result);
    }
}
