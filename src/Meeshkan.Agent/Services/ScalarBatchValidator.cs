using Grpc.Core;
using Meeshkan.Agent.Store;
using Meeshkan.V1;

namespace Meeshkan.Agent.Services;

/// <summary>Checks a ScalarBatch from any client before anything of it is stored.</summary>
public static class ScalarBatchValidator
{
    public static void Validate(ScalarBatch batch)
    {
        var points = batch.Values.Count;
        if (batch.NameIndex.Count != points)
        {
            throw Invalid($"name_index has {batch.NameIndex.Count} entries for {points} values; they must match");
        }
        if (batch.Steps.Count != 0 && batch.Steps.Count != points)
        {
            throw Invalid($"steps has {batch.Steps.Count} entries for {points} values; give one per value or none");
        }
        if (batch.WallTimeUs.Count != 0 && batch.WallTimeUs.Count != points)
        {
            throw Invalid($"wall_time_us has {batch.WallTimeUs.Count} entries for {points} values; give one per value or none");
        }
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in batch.Names)
        {
            if (string.IsNullOrWhiteSpace(name))
            {
                throw Invalid("a scalar name is empty; name every scalar");
            }
            if (name.Length > ScalarStore.MaxNameLength)
            {
                throw Invalid($"a scalar name is {name.Length} characters long; use at most {ScalarStore.MaxNameLength}");
            }
            if (name.Any(char.IsControl))
            {
                throw Invalid("scalar names must not contain control characters");
            }
            if (!seen.Add(name))
            {
                throw Invalid($"scalar name '{name}' appears twice in names; list each name once");
            }
        }
        foreach (var index in batch.NameIndex)
        {
            if (index >= batch.Names.Count)
            {
                throw Invalid($"name_index {index} is out of range: the batch has {batch.Names.Count} names");
            }
        }
    }

    private static RpcException Invalid(string message) => new(new Status(StatusCode.InvalidArgument, message));
}
