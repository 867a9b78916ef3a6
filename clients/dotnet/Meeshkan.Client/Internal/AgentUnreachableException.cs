using Grpc.Core;

namespace Meeshkan.Internal;

/// <summary>The agent did not answer; keep everything and retry later.</summary>
internal sealed class AgentUnreachableException(RpcException inner) : Exception(inner.Message, inner)
{
    public StatusCode StatusCode => inner.StatusCode;
}
