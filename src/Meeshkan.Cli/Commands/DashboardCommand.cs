using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text.Json;
using Cocona;
using Meeshkan.Agent.Remote;

namespace Meeshkan.Cli.Commands;

/// <summary>
/// dashboard: the agent's dashboard address and a one-time login link (as Jupyter prints one); starts the agent first
/// when it is not running (it says so, as `meeshkan start` does).
/// </summary>
internal sealed class DashboardCommand
{
    [Command("dashboard", Description = "Prints the dashboard's address with a one-time login link (starting the agent if it is not running), and opens it in a browser when there is one.")]
    public Task<int> Dashboard([Option("no-browser", Description = "Only print the link")] bool noBrowser = false) =>
        AgentConnection.RunAsync(async connection =>
        {
            if (connection.Remote is not null)
            {
                return AgentConnection.Fail("run `meeshkan dashboard` on the agent's machine (over ssh) and forward its port: ssh -L 7601:127.0.0.1:7601 HOST", ExitCodes.Usage);
            }
            var home = connection.Home;
            var justStarted = false;
            if (await connection.TryStatusAsync(TimeSpan.FromSeconds(2)) is null)
            {
                justStarted = true;
                // The dashboard is the agent's: asking for it starts the agent, as `jupyter notebook` starts its server.
                var started = await AgentCommands.StartAsync(connection, listen: null);
                if (started != 0)
                {
                    return started;
                }
            }
            string Address() => File.Exists(home.DashboardAddressPath) ? File.ReadAllText(home.DashboardAddressPath).Trim() : "";
            var address = Address();
            // An agent that has just started answers before it writes where its dashboard listens.
            for (var wait = 0; address.Length == 0 && justStarted && wait < 30; wait++)
            {
                await Task.Delay(100);
                address = Address();
            }
            if (address.Length == 0)
            {
                return AgentConnection.Fail("the agent runs without a dashboard: run `meeshkan setup --dashboard 127.0.0.1:7601`, then `meeshkan stop` and `meeshkan start`", ExitCodes.Error);
            }
            var token = RemoteCredentials.ReadToken(home.AccessTokenPath);
            if (token is null)
            {
                return AgentConnection.Fail($"cannot read the agent's access token {home.AccessTokenPath}: run this as the agent's user", ExitCodes.Error);
            }
            string code;
            try
            {
                using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
                using var request = new HttpRequestMessage(HttpMethod.Post, address + "api/login-codes");
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
                using var response = await http.SendAsync(request);
                response.EnsureSuccessStatusCode();
                using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
                code = body.RootElement.GetProperty("code").GetString()!;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException or KeyNotFoundException)
            {
                return AgentConnection.Fail($"the dashboard at {address} did not give a login link ({e.Message}); see `meeshkan status` and the agent's log", ExitCodes.Error);
            }
            var link = $"{address}login?token={Uri.EscapeDataString(code)}";
            var port = new Uri(address).Port;
            Console.WriteLine($"Dashboard: {address}");
            Console.WriteLine("Open this link to log in (it works once, within 5 minutes; the browser then stays logged in):");
            Console.WriteLine($"    {link}");
            Console.WriteLine($"From another machine, forward the port first: ssh -N -L {port}:127.0.0.1:{port} {Environment.UserName}@{Environment.MachineName}");
            if (!noBrowser && OpenBrowser(link))
            {
                Console.WriteLine("Opened in your browser.");
            }
            return 0;
        });

    /// <summary>xdg-open, when a desktop session is there to show it; never waits for the browser.</summary>
    private static bool OpenBrowser(string link)
    {
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable("DISPLAY")) && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("WAYLAND_DISPLAY")))
        {
            return false;
        }
        var opener = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':')
            .Select(dir => Path.Combine(dir, "xdg-open")).FirstOrDefault(File.Exists);
        if (opener is null)
        {
            return false;
        }
        try
        {
            var start = new ProcessStartInfo(opener) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            start.ArgumentList.Add(link);
            using var process = Process.Start(start);
            return process is not null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }
}
