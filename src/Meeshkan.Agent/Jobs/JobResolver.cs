using System.Text.RegularExpressions;
using Meeshkan.Agent.Store;

namespace Meeshkan.Agent.Jobs;

/// <summary>
/// The one place a JOB_IDENTIFIER becomes jobs (README, "Naming a job"): its UUID, else its number, else the jobs with
/// exactly that name, else those whose name matches it as a glob (<c>resnet*</c>), else those whose name starts with
/// it. The first rule that finds any decides. Jobs of exactly that name come latest first (a name submitted again
/// means its latest run); jobs matched by a pattern, oldest first.
/// </summary>
public sealed class JobResolver(JobStore store)
{
    /// <summary>Every job the identifier names under the first rule that finds any, the one to take first.</summary>
    public IReadOnlyList<JobRecord> FindAll(string identifier)
    {
        identifier = identifier.Trim();
        if (identifier.Length == 0)
        {
            return [];
        }
        if (Guid.TryParse(identifier, out var id) && store.GetById(id.ToString()) is { } byId)
        {
            return [byId];
        }
        if (long.TryParse(identifier, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var number)
            && store.GetByNumber(number) is { } byNumber)
        {
            return [byNumber];
        }
        var jobs = store.List();
        var exact = Latest(jobs.Where(j => j.Name == identifier));
        if (exact.Count > 0)
        {
            return exact;
        }
        // Jobs of different names matched by a pattern keep the documented order: the first (oldest) one first.
        if (identifier.IndexOfAny(['*', '?', '[']) >= 0 && Glob(identifier) is { } glob)
        {
            return jobs.Where(j => glob.IsMatch(j.Name)).OrderBy(j => j.Number).ToList();
        }
        return jobs.Where(j => j.Name.StartsWith(identifier, StringComparison.Ordinal)).OrderBy(j => j.Number).ToList();
    }

    /// <summary>The job the identifier names (the first of <see cref="FindAll"/>), or null.</summary>
    public JobRecord? Find(string identifier) => FindAll(identifier) is [var latest, ..] ? latest : null;

    /// <summary>The job, or an error the CLI prints as it is.</summary>
    public JobRecord Resolve(string identifier)
    {
        if (string.IsNullOrWhiteSpace(identifier))
        {
            throw new InvalidRequestException("give a job: its number, UUID or name (see `meeshkan list`)");
        }
        return Find(identifier) ?? throw NotFound(identifier);
    }

    /// <summary>Like <see cref="FindAll"/>, but none is an error the CLI prints as it is.</summary>
    public IReadOnlyList<JobRecord> ResolveAll(string identifier)
    {
        if (string.IsNullOrWhiteSpace(identifier))
        {
            throw new InvalidRequestException("give a job: its number, UUID or name (see `meeshkan list`)");
        }
        var found = FindAll(identifier);
        return found.Count > 0 ? found : throw NotFound(identifier);
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

    private static NotFoundException NotFound(string identifier) =>
        new($"no job matches '{Printable(identifier)}': give a number, UUID or name from `meeshkan list`");

    private static List<JobRecord> Latest(IEnumerable<JobRecord> jobs) => jobs.OrderByDescending(j => j.Number).ToList();

    /// <summary>A glob as the shell reads it, case-sensitive: <c>*</c>, <c>?</c>, <c>[abc]</c>, <c>[a-z]</c>, <c>[!x]</c>; null when malformed.</summary>
    private static Regex? Glob(string pattern)
    {
        var regex = new System.Text.StringBuilder("^");
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            switch (c)
            {
                case '*':
                    regex.Append(".*");
                    break;
                case '?':
                    regex.Append('.');
                    break;
                case '[':
                    var close = pattern.IndexOf(']', i + 2 <= pattern.Length ? i + 2 : i + 1);
                    if (close < 0)
                    {
                        regex.Append(@"\[");
                        break;
                    }
                    var set = pattern[(i + 1)..close];
                    var negate = set.StartsWith('!') || set.StartsWith('^');
                    regex.Append('[').Append(negate ? "^" : "")
                        .Append(Regex.Escape(negate ? set[1..] : set).Replace(@"\-", "-", StringComparison.Ordinal)).Append(']');
                    i = close;
                    break;
                default:
                    regex.Append(Regex.Escape(c.ToString()));
                    break;
            }
        }
        try
        {
            return new Regex(regex.Append('$').ToString(), RegexOptions.Singleline | RegexOptions.CultureInvariant);
        }
        catch (ArgumentException)
        {
            return null;
        }
    }
}
