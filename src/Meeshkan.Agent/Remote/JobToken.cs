using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Grpc.Core;

namespace Meeshkan.Agent.Remote;

/// <summary>
/// Tokens that let one job (on a Slurm compute node, which cannot reach the Unix socket) report about itself over the
/// TLS listener, and do nothing else: <c>mkjob.JOB_ID.MAC</c>, where MAC is an HMAC-SHA256 of the job id under a key
/// kept in the data folder (<c>job-tokens.key</c>, 0600). Nothing is stored per job, and a token still holds after an
/// agent restart. What a job token may call is decided by <see cref="AllowedMethods"/>; that it names its own job, by
/// the services' job-id check (<see cref="JobScope"/>).
/// </summary>
public sealed class JobToken
{
    public const string Prefix = "mkjob.";

    /// <summary>The only calls a job token allows: reporting about its own job. Nothing of the JobService.</summary>
    public static readonly IReadOnlySet<string> AllowedMethods = new HashSet<string>(StringComparer.Ordinal)
    {
        "/meeshkan.v1.ReportService/ReportScalars",
        "/meeshkan.v1.ReportService/AddCondition",
        "/meeshkan.v1.ReportService/ReportConditionMet",
        "/meeshkan.v1.ReportService/Notify",
        "/meeshkan.v1.ReportService/FinishJob",
    };

    private readonly byte[] _key;

    public JobToken(MeeshkanHome home)
    {
        var path = Path.Combine(home.Root, "job-tokens.key");
        if (!File.Exists(path))
        {
            PrivateFile.CreateOnce(path, RandomNumberGenerator.GetBytes(32));
        }
        _key = File.ReadAllBytes(path);
        if (_key.Length < 32)
        {
            throw new InvalidDataException($"{path} is damaged (under 32 bytes); delete it and restart the agent (running Slurm jobs then stop reporting)");
        }
    }

    /// <summary>The token for this job (the same every time).</summary>
    public string Issue(string jobId) => Prefix + jobId + "." + Base64Url.EncodeToString(Mac(jobId));

    /// <summary>True when the header value looks like a job token (so a wrong one is refused as such, not as the access token).</summary>
    public static bool IsJobToken(string presented) => presented.StartsWith(Prefix, StringComparison.Ordinal);

    /// <summary>The job this token was issued for, or null when it is not one of this agent's job tokens.</summary>
    public string? Verify(string presented)
    {
        if (!IsJobToken(presented))
        {
            return null;
        }
        var dot = presented.LastIndexOf('.');
        if (dot <= Prefix.Length)
        {
            return null;
        }
        var jobId = presented[Prefix.Length..dot];
        byte[] mac;
        try
        {
            mac = Base64Url.DecodeFromChars(presented.AsSpan(dot + 1));
        }
        catch (FormatException)
        {
            return null;
        }
        return CryptographicOperations.FixedTimeEquals(mac, Mac(jobId)) ? jobId : null;
    }

    private byte[] Mac(string jobId) => HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes("meeshkan-job:" + jobId));
}

/// <summary>
/// The job a call is limited to, when it came with a job token (null otherwise). Set per request by the TLS listener's
/// check; the report service refuses any request about another job.
/// </summary>
public static class JobScope
{
    private const string Key = "meeshkan.job-scope";

    public static void Set(Microsoft.AspNetCore.Http.HttpContext context, string jobId) => context.Items[Key] = jobId;

    public static string? Of(Microsoft.AspNetCore.Http.HttpContext? context) => context?.Items[Key] as string;

    /// <summary>Throws PERMISSION_DENIED when the call is limited to one job and the request is about another (or no) job.</summary>
    public static void Check(ServerCallContext context, object request)
    {
        if (Of(context.GetHttpContext()) is not { } allowed)
        {
            return;
        }
        var about = request switch
        {
            V1.ScalarBatch r => r.JobId,
            V1.AddConditionRequest r => r.JobId,
            V1.ConditionMetRequest r => r.JobId,
            V1.NotifyRequest r => r.JobId,
            V1.FinishJobRequest r => r.JobId,
            _ => null,
        };
        if (!string.Equals(about, allowed, StringComparison.Ordinal))
        {
            throw new RpcException(new Status(StatusCode.PermissionDenied, "this job token only reports about its own job"));
        }
    }
}
