namespace Meeshkan.Internal;

/// <summary>
/// One-line warnings, each shown at most once per reporter. Reporting never throws into the
/// training program for a connection problem; it says so once instead.
/// </summary>
internal sealed class Warnings(Action<string> sink)
{
    private readonly HashSet<string> _shown = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    /// <summary>Writes "meeshkan: message" on standard error.</summary>
    public static void ToStandardError(string message)
    {
        try
        {
            Console.Error.WriteLine("meeshkan: " + message);
        }
        catch (Exception)
        {
            // A closed stderr must not break the caller.
        }
    }

    /// <summary>Shows <paramref name="message"/> unless <paramref name="key"/> was warned about before.</summary>
    public bool Once(string key, string message)
    {
        lock (_lock)
        {
            if (!_shown.Add(key))
            {
                return false;
            }
        }
        try
        {
            sink(message);
        }
        catch (Exception)
        {
            // The side channel must not break the pump either.
        }
        return true;
    }
}
