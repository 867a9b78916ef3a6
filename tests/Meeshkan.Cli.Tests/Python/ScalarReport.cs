using System.Globalization;
using System.Text.Json;
using Meeshkan.Testing;

namespace Meeshkan.Cli.Tests;

/// <summary>A job's scalars as `meeshkan report JOB --json` shows them: latest value, step and count per name.</summary>
internal static class ScalarReport
{
    public static Dictionary<string, (double Value, long Step, long Count)> Scalars(this MeeshkanSandbox sandbox, long number)
    {
        using var doc = JsonDocument.Parse(sandbox.Ok("report", number.ToString(CultureInfo.InvariantCulture), "--json"));
        return doc.RootElement.GetProperty("scalars").EnumerateArray().ToDictionary(
            s => s.GetProperty("name").GetString()!,
            s => (ParseDouble(s.GetProperty("value")),
                long.Parse(s.GetProperty("step").GetString()!, CultureInfo.InvariantCulture),
                long.Parse(s.GetProperty("count").GetString()!, CultureInfo.InvariantCulture)));
    }

    public static double ParseDouble(JsonElement e) => e.ValueKind == JsonValueKind.String
        ? double.Parse(e.GetString()!.Replace("Infinity", "∞"), CultureInfo.InvariantCulture)
        : e.GetDouble();
}
