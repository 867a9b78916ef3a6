using Meeshkan.Agent.Store;

namespace Meeshkan.Agent.Conditions;

/// <summary>Which names a condition may read: the rules the ReportService applies to reported scalars.</summary>
internal static class ScalarNames
{
    /// <summary>Why <paramref name="name"/> cannot be a scalar name, or null when it can.</summary>
    public static string? Problem(string name) =>
        string.IsNullOrWhiteSpace(name) ? "a scalar name is empty"
        : name.Length > ScalarStore.MaxNameLength ? $"a scalar name is {name.Length} characters long; use at most {ScalarStore.MaxNameLength}"
        : name.Any(char.IsControl) ? "scalar names must not contain control characters"
        : null;
}
