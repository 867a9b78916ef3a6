namespace Meeshkan.Agent.Gpus;

/// <summary>One GPU as <c>nvidia-smi</c> reports it; memory in MiB.</summary>
public sealed record Gpu(int Index, string Uuid, string Name, long MemoryTotalMib, long MemoryUsedMib);
