using System.Reflection;
using Microsoft.Extensions.Logging;

namespace Meeshkan.Agent.Tests;

/// <summary>Every log line of the agent has its own event id, from its area's hundred (src/Meeshkan.Agent/LogEvents.cs).</summary>
[TestFixture]
public sealed class LogEventTests
{
    private static readonly List<(int Id, string Method, string Namespace)> Events = typeof(AgentHost).Assembly.GetTypes()
        .SelectMany(t => t.GetMethods(BindingFlags.Static | BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly)
            .Select(m => (Method: m, Attribute: m.GetCustomAttribute<LoggerMessageAttribute>()))
            .Where(x => x.Attribute is not null)
            .Select(x => (x.Attribute!.EventId, $"{t.FullName}.{x.Method.Name}", Area(t.Namespace ?? ""))))
        .ToList();

    /// <summary>The area of a namespace: a job's life (Jobs/, Scheduler/, Executors/) is one area; each other folder is one.</summary>
    private static string Area(string ns) =>
        ns is "Meeshkan.Agent.Scheduler" || ns.StartsWith("Meeshkan.Agent.Executors", StringComparison.Ordinal) ? "Meeshkan.Agent.Jobs" : ns;

    [Test]
    public void Event_ids_are_unique()
    {
        Assert.That(Events, Has.Count.GreaterThan(20), "the agent's log messages were found");
        var twice = Events.GroupBy(e => e.Id).Where(g => g.Count() > 1).Select(g => $"{g.Key}: {string.Join(", ", g.Select(e => e.Method))}");
        Assert.That(twice, Is.Empty);
    }

    [Test]
    public void Each_hundred_belongs_to_one_area()
    {
        var shared = Events.GroupBy(e => e.Id / 100).Where(g => g.Select(e => e.Namespace).Distinct().Count() > 1)
            .Select(g => $"{g.Key * 100}-{g.Key * 100 + 99}: {string.Join(", ", g.Select(e => $"{e.Id} {e.Method}"))}");
        Assert.That(shared, Is.Empty);
    }
}
