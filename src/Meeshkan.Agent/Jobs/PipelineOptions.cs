using Meeshkan.Agent.Conditions;
using Meeshkan.Agent.Store;
using Meeshkan.V1;

namespace Meeshkan.Agent.Jobs;

/// <summary>
/// What a submitted job asks of the pipeline (submit --after, --after-any, --timeout, --retries, --retry-delay,
/// --stop-if), checked and resolved at submit: each JOB named becomes one job number, a malformed option an
/// <see cref="InvalidRequestException"/> that names it.
/// </summary>
public static class PipelineOptions
{
    public static JobStore.NewJob Apply(JobStore.NewJob job, SubmitJobRequest request, Func<string, IReadOnlyList<JobRecord>> findAll)
    {
        if (request.TimeoutSeconds < 0 || request.TimeoutSeconds > JobDuration.Max.TotalSeconds)
        {
            throw new InvalidRequestException($"--timeout must be positive and at most {JobDuration.Format(JobDuration.Max)}, like 90s, 45m, 2h or 1d");
        }
        if (request.Retries < 0 || request.Retries > Attempts.MaxRetries)
        {
            throw new InvalidRequestException($"--retries must be a whole number from 0 to {Attempts.MaxRetries}, not {request.Retries}");
        }
        if (request.RetryDelaySeconds < 0 || request.RetryDelaySeconds > JobDuration.Max.TotalSeconds)
        {
            throw new InvalidRequestException($"--retry-delay must be at most {JobDuration.Format(JobDuration.Max)}, like 30s or 5m");
        }
        if (request.RetryDelaySeconds > 0 && request.Retries == 0)
        {
            throw new InvalidRequestException("--retry-delay needs --retries N: say how many times a failed attempt is started again");
        }
        var stopIf = request.StopIf.Trim();
        if (stopIf.Length > 0)
        {
            try
            {
                ConditionExpression.Parse(stopIf);
            }
            catch (ConditionExpressionException e)
            {
                throw new InvalidRequestException($"--stop-if: {e.Message}");
            }
        }
        return job with
        {
            After = Resolve(request.After, "--after", findAll),
            AfterAny = Resolve(request.AfterAny, "--after-any", findAll),
            TimeoutSeconds = request.TimeoutSeconds,
            Retries = request.Retries,
            RetryDelaySeconds = request.RetryDelaySeconds,
            StopIf = stopIf.Length > 0 ? stopIf : null,
        };
    }

    /// <summary>
    /// Each identifier to one job number: a number, a UUID, a name (the latest job of exactly that name), or a pattern
    /// or prefix that matches one job. None, or a pattern matching several, is refused with the jobs it matched.
    /// </summary>
    private static long[] Resolve(IEnumerable<string> identifiers, string option, Func<string, IReadOnlyList<JobRecord>> findAll)
    {
        var numbers = new List<long>();
        foreach (var identifier in identifiers.SelectMany(i => i.Split(',')).Select(i => i.Trim()))
        {
            if (identifier.Length == 0)
            {
                throw new InvalidRequestException($"{option} names an empty job; give job numbers, UUIDs or names, like {option} 3,4");
            }
            var found = findAll(identifier);
            if (found.Count == 0)
            {
                throw new InvalidRequestException($"{option} {JobResolver.Printable(identifier)}: no job matches it; `meeshkan list` shows the jobs");
            }
            if (found.Count > 1 && found.Any(j => j.Name != identifier))
            {
                var matched = string.Join(", ", found.Take(10).Select(j => $"{j.Number} ({j.Name})")) + (found.Count > 10 ? ", ..." : "");
                throw new InvalidRequestException(
                    $"{option} {JobResolver.Printable(identifier)} matches {found.Count} jobs: {matched}; name one by its number, like {option} {found[0].Number}");
            }
            if (!numbers.Contains(found[0].Number))
            {
                numbers.Add(found[0].Number);
            }
        }
        return [.. numbers];
    }
}
