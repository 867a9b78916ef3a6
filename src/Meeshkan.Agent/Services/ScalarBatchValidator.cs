using Grpc.Core;
using Meeshkan.V1;

namespace Meeshkan.Agent.Services;

/// <summary>
/// Checks a ScalarBatch from any client before anything of it is stored. A batch whose shape is wrong is refused
/// whole; a point whose name breaks <see cref="ScalarName"/>'s rule is refused alone, so the batch's good points are
/// still stored at their true steps.
/// </summary>
public static class ScalarBatchValidator
{
    /// <summary>A checked batch: the points to store, and what was refused of it.</summary>
    /// <param name="Good">The batch without its refused points (the request itself when nothing was refused).</param>
    /// <param name="Refused">How many points were refused.</param>
    /// <param name="Problem">Why, naming the first bad name; null when nothing was refused.</param>
    public sealed record Checked(ScalarBatch Good, int Refused, string? Problem);

    /// <summary>Checks <paramref name="batch"/>; throws INVALID_ARGUMENT when its shape is wrong or none of its points is good.</summary>
    public static Checked Check(ScalarBatch batch)
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
        bool[]? bad = null;
        string? problem = null;
        for (var i = 0; i < batch.Names.Count; i++)
        {
            var name = batch.Names[i];
            if (ScalarName.Problem(name) is { } why)
            {
                bad ??= new bool[batch.Names.Count];
                bad[i] = true;
                problem ??= why;
            }
            else if (!seen.Add(name))
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
        if (bad is null)
        {
            return new Checked(batch, 0, null);
        }
        var good = WithoutBadNames(batch, bad);
        var refused = points - good.Values.Count;
        if (good.Values.Count == 0)
        {
            throw Invalid(refused == 0 ? problem! : $"{problem}; nothing of the batch was stored");
        }
        return new Checked(good, refused, problem);
    }

    /// <summary>The points of <paramref name="batch"/> whose name is good, in order, with the same client id and sequence.</summary>
    private static ScalarBatch WithoutBadNames(ScalarBatch batch, bool[] bad)
    {
        var good = new ScalarBatch { JobId = batch.JobId, ClientId = batch.ClientId, Sequence = batch.Sequence };
        var newIndex = new uint[batch.Names.Count];
        for (var i = 0; i < batch.Names.Count; i++)
        {
            if (!bad[i])
            {
                newIndex[i] = (uint)good.Names.Count;
                good.Names.Add(batch.Names[i]);
            }
        }
        for (var p = 0; p < batch.Values.Count; p++)
        {
            var index = (int)batch.NameIndex[p];
            if (bad[index])
            {
                continue;
            }
            good.NameIndex.Add(newIndex[index]);
            good.Values.Add(batch.Values[p]);
            if (batch.Steps.Count != 0)
            {
                good.Steps.Add(batch.Steps[p]);
            }
            if (batch.WallTimeUs.Count != 0)
            {
                good.WallTimeUs.Add(batch.WallTimeUs[p]);
            }
        }
        return good;
    }

    private static RpcException Invalid(string message) => new(new Status(StatusCode.InvalidArgument, message));
}
