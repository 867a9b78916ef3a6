using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using Meeshkan.Testing;

namespace Meeshkan.Cli.Tests.Faults;

/// <summary>
/// Webhook URLs, SMTP passwords and the environment captured at submit are kept by the agent and never shown:
/// not in list, status, notifications, reports, error messages, the agent's log or a `sorry` bundle.
/// </summary>
[TestFixture]
public sealed class SecretTests
{
    [Test]
    public void Secrets_never_appear_in_any_output()
    {
        using var sandbox = new MeeshkanSandbox();
        var tag = Guid.NewGuid().ToString("N")[..12];
        string[] secrets =
        [
            $"envtoken{tag}", $"slacktoken{tag}", $"webhooktoken{tag}", $"webhooksecret{tag}", $"smtppassword{tag}", $"discordtoken{tag}",
        ];
        sandbox.Environment["MY_API_TOKEN"] = secrets[0];
        // Loopback port 9 (discard): every delivery fails fast, so failure messages are produced too.
        sandbox.Ok("setup",
            "--slack-webhook", $"http://127.0.0.1:9/services/T000/B000/{secrets[1]}",
            "--webhook-url", $"http://user:{secrets[2]}@127.0.0.1:9/hook?token={secrets[2]}",
            "--webhook-secret", secrets[3],
            "--smtp-host", "127.0.0.1", "--smtp-port", "9", "--smtp-user", "me", "--smtp-password", secrets[4], "--smtp-security", "none",
            "--email-from", "meeshkan@example.com", "--email-to", "me@example.com",
            "--discord-webhook", $"http://127.0.0.1:9/api/webhooks/1/{secrets[5]}");
        sandbox.Start();
        var number = sandbox.Submit("-n", "with-secrets", "sh", "-c", "exit 3");
        Assert.That(sandbox.WaitForEnd(number).State, Is.EqualTo("FAILED"));
        // Wait until deliveries have been tried (and failed) on every channel.
        FaultKit.WaitFor(() => sandbox.Ok("notifications", number.ToString()).Split('\n').Count(l => l.Contains("FAILED")) >= 4,
            "failed deliveries are recorded");
        FaultCounts.Fault(4);

        var outputs = new Dictionary<string, string>();
        void Capture(params string[] args)
        {
            var result = sandbox.Run(args);
            outputs[string.Join(' ', args)] = result.Stdout + result.Stderr;
        }
        Capture("list");
        Capture("list", "--json");
        Capture("status");
        Capture("status", "--json");
        Capture("notifications", number.ToString());
        Capture("notifications", number.ToString(), "--json");
        Capture("report", number.ToString());
        Capture("report", number.ToString(), "--json");
        Capture("logs", number.ToString());
        Capture("cancel", "-y", number.ToString());
        Capture("submit", "no-such-script.py");
        Capture("submit", "--python", "/no/such/python", "x.py");
        Capture("setup", "--slack-webhook", $"not a url {secrets[1]}");
        Capture("setup", "--test");
        outputs["agent.log"] = File.ReadAllText(Path.Combine(sandbox.Home, "logs", "agent.log"));
        var sorry = sandbox.Ok("sorry").Trim();
        using (var tar = new TarReader(new GZipStream(File.OpenRead(Path.Combine(sandbox.WorkDir, sorry)), CompressionMode.Decompress)))
        {
            while (tar.GetNextEntry() is { } entry)
            {
                using var reader = new StreamReader(entry.DataStream!, Encoding.UTF8);
                outputs[$"sorry:{entry.Name}"] = reader.ReadToEnd();
            }
        }
        Assert.That(outputs.Keys, Does.Contain("sorry:config.masked.json").And.Contain("sorry:agent.log"));
        Assert.That(outputs["notifications " + number], Does.Contain("FAILED"), "the failures are shown, without the secrets");

        foreach (var (where, text) in outputs)
        {
            foreach (var secret in secrets)
            {
                Assert.That(text, Does.Not.Contain(secret), $"{where} shows a secret:\n{text}");
                FaultCounts.Checked();
            }
        }
        FaultCounts.BadInput(4);
    }
}
