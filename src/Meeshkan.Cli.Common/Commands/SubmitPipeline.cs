using System.Globalization;
using Meeshkan.V1;

namespace Meeshkan.Cli.Commands;

/// <summary>
/// submit's --after, --after-any, --timeout, --retries, --retry-delay and --stop-if: durations and counts checked here
/// (exit 2, nothing sent); the jobs named and the condition are checked by the agent, which knows them.
/// </summary>
internal static class SubmitPipeline
{
    public static void ApplyTo(SubmitJobRequest request, string? after, string? afterAny, string? timeout, string? retries, string? retryDelay, string? stopIf)
    {
        if (after is not null)
        {
            request.After.AddRange(Jobs(after, "--after"));
        }
        if (afterAny is not null)
        {
            request.AfterAny.AddRange(Jobs(afterAny, "--after-any"));
        }
        if (timeout is not null)
        {
            request.TimeoutSeconds = (long)Duration(timeout, "--timeout", allowZero: false).TotalSeconds;
        }
        if (retries is not null)
        {
            request.Retries = int.TryParse(retries.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n <= MaxRetries ? n
                : throw new UsageException($"--retries takes a whole number from 0 to {MaxRetries} (how many times a failed attempt is started again), not '{retries}'");
        }
        if (retryDelay is not null)
        {
            if (retries is null)
            {
                throw new UsageException("--retry-delay needs --retries N: say how many times a failed attempt is started again");
            }
            request.RetryDelaySeconds = (long)Duration(retryDelay, "--retry-delay", allowZero: true).TotalSeconds;
        }
        if (stopIf is not null)
        {
            request.StopIf = stopIf.Trim().Length > 0 ? stopIf
                : throw new UsageException("--stop-if takes a condition on the job's scalars, like --stop-if \"isnan([train loss])\"");
        }
    }

    private static readonly string[] Options = ["--after", "--after-any", "--timeout", "--retries", "--retry-delay", "--stop-if"];

    /// <summary>
    /// Sends a submit (one job or many). The agent checks the scalar pattern, the jobs --after names and the --stop-if
    /// condition (one place, and no regex engine in the small `meeshkan`): what it refuses of those is a usage mistake.
    /// </summary>
    public static async Task<T> SendAsync<T>(Func<Task<T>> submit)
    {
        try
        {
            return await submit();
        }
        catch (Grpc.Core.RpcException e) when (e.StatusCode == Grpc.Core.StatusCode.InvalidArgument
            && (e.Status.Detail.StartsWith("--scalar-pattern ", StringComparison.Ordinal) || IsAbout(e.Status.Detail)))
        {
            throw new UsageException(e.Status.Detail);
        }
    }

    /// <summary>Whether the agent's refusal is about one of these options (its message starts with the option's name).</summary>
    private static bool IsAbout(string message) =>
        Options.Any(o => message.StartsWith(o + " ", StringComparison.Ordinal) || message.StartsWith(o + ":", StringComparison.Ordinal));

    /// <summary>The most retries a job may ask for (the agent's Attempts.MaxRetries).</summary>
    public const int MaxRetries = 100;

    private static IEnumerable<string> Jobs(string text, string option)
    {
        var jobs = text.Split(',').Select(j => j.Trim()).ToList();
        return jobs.Any(j => j.Length == 0)
            ? throw new UsageException($"{option} takes jobs separated by commas, like {option} 3,4 or {option} preprocess (not '{text}')")
            : jobs;
    }

    private static TimeSpan Duration(string text, string option, bool allowZero)
    {
        if (!allowZero && text.Trim().All(c => c is '0' or '.') && text.Trim().Length > 0)
        {
            // "0" is not "0s" with the unit forgotten: it is zero, which a timeout cannot be.
            throw new UsageException($"{option}: `{text.Trim()}` is zero; it must be positive, like 90s, 45m, 2h or 1d");
        }
        return JobDuration.TryParse(text, out var value, out var problem, allowZero) ? value : throw new UsageException($"{option}: {problem}");
    }
}
