using System.Diagnostics;
using Meeshkan.Testing;
using MimeKit;

namespace Meeshkan.Agent.Tests.Notifications;

/// <summary>
/// A real SMTP server on 127.0.0.1: Debian's python3-aiosmtpd, run by /usr/bin/python3, saving each message it
/// accepts as a file. Stopped (by its own pid) on dispose.
/// </summary>
internal sealed class SmtpReceiver : IDisposable
{
    private const string Script = """
        import asyncio, os, sys, time
        from aiosmtpd.controller import Controller

        port, folder = int(sys.argv[1]), sys.argv[2]

        class Save:
            def __init__(self):
                self.count = 0
            async def handle_DATA(self, server, session, envelope):
                self.count += 1
                temp = os.path.join(folder, "%04d.tmp" % self.count)
                with open(temp, "wb") as f:
                    f.write(envelope.original_content or envelope.content)
                os.rename(temp, temp[:-4] + ".eml")
                return "250 Message accepted"

        controller = Controller(Save(), hostname="127.0.0.1", port=port)
        controller.start()
        print("ready", flush=True)
        try:
            sys.stdin.read()
        finally:
            controller.stop()
        """;

    private readonly Process _process;
    private readonly string _folder = Directory.CreateTempSubdirectory("mk-smtp-").FullName;

    public SmtpReceiver()
    {
        if (!File.Exists("/usr/bin/python3"))
        {
            Assert.Ignore("/usr/bin/python3 (with python3-aiosmtpd) is needed for the SMTP receiver");
        }
        Port = Ports.Free();
        var script = Path.Combine(_folder, "receiver.py");
        File.WriteAllText(script, Script);
        var start = new ProcessStartInfo("/usr/bin/python3")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(script);
        start.ArgumentList.Add(Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        start.ArgumentList.Add(_folder);
        _process = Process.Start(start)!;
        var ready = _process.StandardOutput.ReadLineAsync();
        if (!ready.Wait(TimeSpan.FromSeconds(15)) || ready.Result != "ready")
        {
            var error = _process.HasExited ? _process.StandardError.ReadToEnd() : "(no answer)";
            Dispose();
            Assert.Fail($"the aiosmtpd receiver did not start (is python3-aiosmtpd installed?): {error}");
        }
    }

    public int Port { get; }

    public IReadOnlyList<MimeMessage> WaitFor(int count, int seconds = 15)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (Directory.GetFiles(_folder, "*.eml").Length < count && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(50);
        }
        var files = Directory.GetFiles(_folder, "*.eml").Order().ToList();
        Assert.That(files, Has.Count.GreaterThanOrEqualTo(count), "messages received by the SMTP server");
        return files.Select(f => MimeMessage.Load(f)).ToList();
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.StandardInput.Close();
                if (!_process.WaitForExit(3000))
                {
                    _process.Kill();
                }
            }
        }
        catch (InvalidOperationException)
        {
        }
        _process.Dispose();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
