namespace Meeshkan;

/// <summary>
/// What a scalar's name may be: the one rule the agent (reports, conditions) and the C# SDK apply. The Python
/// client applies the same rule in <c>meeshkan/_reporter.py</c>.
/// </summary>
public static class ScalarName
{
    /// <summary>Longest scalar name accepted, in UTF-16 code units.</summary>
    public const int MaxLength = 512;

    /// <summary>Why <paramref name="name"/> cannot be a scalar name, or null when it can.</summary>
    public static string? Problem(string? name) =>
        string.IsNullOrWhiteSpace(name) ? "a scalar name is empty; name every scalar"
        : name.Length > MaxLength ? $"a scalar name is {name.Length} characters long; use at most {MaxLength}"
        : name.AsSpan().ContainsAnyInRange('\0', '\u001f') || name.AsSpan().ContainsAnyInRange('\u007f', '\u009f')
            ? "scalar names must not contain control characters"
        : null;
}
