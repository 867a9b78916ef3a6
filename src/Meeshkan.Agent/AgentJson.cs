using System.Text.Json;
using System.Text.Json.Serialization;
using Meeshkan.Agent.Config;

namespace Meeshkan.Agent;

/// <summary>
/// Every type Meeshkan stores or reads as JSON, with its serializer code generated at build time: the `meeshkan`
/// executable is compiled ahead of time (Native AOT), where reflection-based serialization is not available.
/// A use site with its own options (naming, number handling) makes its own instance: `new AgentJson(options)`.
/// </summary>
[JsonSerializable(typeof(AgentConfig))]
[JsonSerializable(typeof(NotificationSettings))]
[JsonSerializable(typeof(string[]))]
[JsonSerializable(typeof(IReadOnlyList<string>))]
[JsonSerializable(typeof(IReadOnlyDictionary<string, string>))]
[JsonSerializable(typeof(Dictionary<string, string>))]
[JsonSerializable(typeof(Dictionary<string, double>))]
[JsonSerializable(typeof(IReadOnlyDictionary<string, double>))]
[JsonSerializable(typeof(Dashboard.JobList))]
[JsonSerializable(typeof(Dashboard.JobRow))]
[JsonSerializable(typeof(Dashboard.JobDetail))]
[JsonSerializable(typeof(Dashboard.ChartData))]
[JsonSerializable(typeof(Dashboard.LogSlice))]
[JsonSerializable(typeof(Dashboard.ScalarPoints))]
[JsonSerializable(typeof(Dashboard.SessionInfo))]
[JsonSerializable(typeof(Dashboard.LoginCode))]
[JsonSerializable(typeof(Dashboard.ErrorBody))]
internal sealed partial class AgentJson : JsonSerializerContext;
