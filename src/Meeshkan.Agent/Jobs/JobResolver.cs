using Meeshkan.Agent.Store;

namespace Meeshkan.Agent.Jobs;

/// <summary>
/// The one place a JOB_IDENTIFIER becomes a job: its UUID, else its number, else a glob on its name
/// (a name with no glob characters also matches as a prefix). The first match, oldest first, wins.
/// </summary>
public sealed class JobResolver(JobStore store)
{
    public JobRecord? Find(string identifier)
    {
        identifier = identifier.Trim();
        if (identifier.Length == 0)
        {
            return null;
        }
        if (Guid.TryParse(identifier, out var id) && store.GetById(id.ToString()) is { } byId)
        {
            return byId;
        }
        if (long.TryParse(identifier, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var number)
            && store.GetByNumber(number) is { } byNumber)
        {
            return byNumber;
        }
        var hasGlob = identifier.IndexOfAny(['*', '?', '[']) >= 0;
        return store.FirstByNameGlob(identifier) ?? (hasGlob ? null : store.FirstByNameGlob(EscapeGlob(identifier) + "*"));
    }

    /// <summary>The job, or an error the CLI prints as it is.</summary>
    public JobRecord Resolve(string identifier)
    {
        if (string.IsNullOrWhiteSpace(identifier))
        {
            throw new InvalidRequestException("give a job: its number, UUID or name (see `meeshkan list`)");
        }
        return Find(identifier) ?? throw new NotFoundException(
            $"no job matches '{Printable(identifier)}': give a number, UUID or name from `meeshkan list`");
    }

    /// <summary>A job a running script reports for, by its id: it must exist and not have ended.</summary>
    public JobRecord RunningById(string jobId)
    {
        if (string.IsNullOrEmpty(jobId))
        {
            throw new InvalidRequestException("job_id is missing: report from a job (MEESHKAN_JOB_ID) or register one first");
        }
        var job = store.GetById(jobId) ?? throw new NotFoundException($"no job has id '{Printable(jobId)}'");
        if (job.IsEnded)
        {
            throw new NotAllowedException($"job {job.Number} has ended ({job.State.ToString().ToUpperInvariant()}); nothing more is stored for it");
        }
        return job;
    }

    /// <summary>The identifier as it may be shown back: control characters escaped, long ones cut.</summary>
    public static string Printable(string text)
    {
        var shown = string.Concat(text.Take(80).Select(c => char.IsControl(c) ? $"\\x{(int)c:x2}" : c.ToString()));
        return text.Length > 80 ? shown + "…" : shown;
    }

    private static string EscapeGlob(string text) =>
        string.Concat(text.Select(c => c is '*' or '?' or '[' ? $"[{c}]" : c.ToString()));
}
