using System.Text.Json;
using System.Text.Json.Serialization;

namespace Meeshkan.Agent.Dashboard;

/// <summary>The dashboard's JSON: the agent's source-generated context, camelCase, nulls left out.</summary>
internal static class DashboardJson
{
    public static readonly AgentJson Context = new(new JsonSerializerOptions
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    });
}
