using Grpc.Core;
using Meeshkan.Agent.Store;
using Meeshkan.V1;

namespace Meeshkan.Agent.Services;

/// <summary>Keeps jobs' conditions, evaluates them as scalars arrive, and records firings (with a cooldown).</summary>
public sealed class ConditionEngine
{
    public (string Id, IReadOnlyList<string> Names) Add(JobRecord job, AddConditionRequest request) =>
        throw new RpcException(new Status(StatusCode.Unimplemented, "conditions are not available yet"));

    public void Evaluate(JobRecord job, IReadOnlyList<ScalarStore.Series> series)
    {
    }

    public bool RecordClientFiring(JobRecord job, string conditionId, IDictionary<string, double> values) =>
        throw new RpcException(new Status(StatusCode.Unimplemented, "conditions are not available yet"));
}
