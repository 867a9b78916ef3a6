using Meeshkan.Agent.Charts;
using Meeshkan.Agent.Config;
using Meeshkan.Agent.Notifications;

namespace Meeshkan.Cli.Setup;

/// <summary>`meeshkan setup --test`: one test message, with a sample chart, to every channel; says which worked.</summary>
internal static class NotificationTest
{
    public static async Task<int> RunAsync(NotificationSettings settings)
    {
        var sinks = SinkFactory.Create(settings);
        if (sinks.Count == 0)
        {
            await Console.Error.WriteLineAsync("No notification channel is set up: add one with `meeshkan setup` (see `meeshkan setup --help`).");
            return 1;
        }
        var notification = Sample();
        var redactor = SinkFactory.Redactor(settings);
        var timeout = TimeSpan.FromSeconds(Math.Clamp(settings.TimeoutSeconds, 1, 60));
        var results = await Task.WhenAll(sinks.Select(async sink =>
        {
            using var deadline = new CancellationTokenSource(timeout);
            try
            {
                await sink.SendAsync(notification, deadline.Token);
                return (sink.Channel, Ok: true, Reason: "");
            }
            catch (Exception e)
            {
                var (reason, _) = SinkLane.Describe(e, deadline.IsCancellationRequested, timeout);
                return (sink.Channel, Ok: false, Reason: redactor.Redact(reason));
            }
        }));
        foreach (var (channel, ok, reason) in results)
        {
            Console.WriteLine(ok ? $"{channel}: OK" : $"{channel}: FAILED ({reason})");
        }
        var failed = results.Count(r => !r.Ok);
        Console.WriteLine(failed == 0 ? $"All {results.Length} channels worked." : $"{failed} of {results.Length} channels failed.");
        return failed == 0 ? 0 : 1;
    }

    private static Notification Sample()
    {
        var steps = Enumerable.Range(0, 200).Select(i => (double)i).ToArray();
        var loss = steps.Select(s => 2.0 * Math.Exp(-s / 50) + 0.1).ToArray();
        var accuracy = steps.Select(s => 1 - 0.9 * Math.Exp(-s / 40)).ToArray();
        return new Notification
        {
            Event = NotificationEvent.Test,
            Time = DateTimeOffset.UtcNow,
            Host = NotificationComposer.Host,
            Message = $"Test notification from `meeshkan setup --test` on {NotificationComposer.Host}. The chart shows sample data.",
            Scalars = [new ScalarLine("loss", loss[^1], 199, loss[^1] - loss[^11]), new ScalarLine("accuracy", accuracy[^1], 199, accuracy[^1] - accuracy[^11])],
            ChartPng = ChartDrawer.DrawPng("Sample chart", [new ChartSeries("loss", steps, loss), new ChartSeries("accuracy", steps, accuracy)]),
        };
    }
}
