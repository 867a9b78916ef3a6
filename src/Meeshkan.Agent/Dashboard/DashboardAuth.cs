using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Meeshkan.Agent.Remote;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Meeshkan.Agent.Dashboard;

/// <summary>
/// Who may see the dashboard: a browser that opened a login link. The link carries a one-time code (from
/// `meeshkan dashboard`, valid once for five minutes) or the agent's access token itself; it sets an HttpOnly,
/// SameSite=Strict session cookie signed with the access token, so `meeshkan remote rotate` ends every session.
/// Changes (POST) also need the session's CSRF token in a header. Wrong codes, tokens and cookies are slowed down
/// and logged as on the TLS listener (<see cref="FailureThrottle"/>).
/// </summary>
internal sealed class DashboardAuth(AccessToken token, FailureThrottle throttle, TimeProvider time, ILogger<DashboardAuth> logger)
{
    public const string CookieName = "meeshkan_session";
    public const string CsrfHeader = "X-CSRF-Token";
    public static readonly TimeSpan CodeLifetime = TimeSpan.FromMinutes(5);
    public static readonly TimeSpan SessionLifetime = TimeSpan.FromDays(30);

    private readonly ConcurrentDictionary<string, DateTimeOffset> _codes = new();

    /// <summary>A new one-time login code.</summary>
    public (string Code, DateTimeOffset Expires) NewCode()
    {
        var now = time.GetUtcNow();
        foreach (var (old, expires) in _codes)
        {
            if (expires < now)
            {
                _codes.TryRemove(old, out _);
            }
        }
        var code = Base64Url(RandomNumberGenerator.GetBytes(24));
        var until = now + CodeLifetime;
        _codes[code] = until;
        return (code, until);
    }

    /// <summary>True for an unexpired one-time code (used up by this call) or the access token.</summary>
    public bool RedeemLogin(string presented) =>
        (_codes.TryRemove(presented, out var expires) && expires >= time.GetUtcNow()) || token.Verify(presented);

    /// <summary>True when the call carries <c>Authorization: Bearer ACCESS-TOKEN</c> (how the CLI asks for a code).</summary>
    public bool HasBearerToken(HttpContext context)
    {
        var header = context.Request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) && token.Verify(header[7..].Trim());
    }

    /// <summary>Sets a fresh session cookie on the response.</summary>
    public void StartSession(HttpContext context)
    {
        var id = Base64Url(RandomNumberGenerator.GetBytes(18));
        var issued = time.GetUtcNow().ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
        var value = $"{id}.{issued}.{Sign($"session:{id}.{issued}")}";
        context.Response.Cookies.Append(CookieName, value, new CookieOptions
        {
            HttpOnly = true,
            SameSite = SameSiteMode.Strict,
            Secure = context.Request.IsHttps,
            Path = "/",
            MaxAge = SessionLifetime,
        });
    }

    /// <summary>The session id of a valid cookie, or null (no cookie, or a wrong one: counted as a failure).</summary>
    public async Task<string?> SessionAsync(HttpContext context)
    {
        if (!context.Request.Cookies.TryGetValue(CookieName, out var value) || string.IsNullOrEmpty(value))
        {
            return null;
        }
        var parts = value.Split('.');
        if (parts.Length == 3 && long.TryParse(parts[1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var issued)
            && time.GetUtcNow() - DateTimeOffset.FromUnixTimeSeconds(issued) < SessionLifetime
            && Sign($"session:{parts[0]}.{parts[1]}") is { } expected
            && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(parts[2])))
        {
            Succeed(context);
            return parts[0];
        }
        await FailAsync(context, "wrong or expired session cookie").ConfigureAwait(false);
        return null;
    }

    /// <summary>The CSRF token of a session: pages send it back in <see cref="CsrfHeader"/> on every change.</summary>
    public string Csrf(string session) => Sign($"csrf:{session}") ?? "";

    public bool CsrfMatches(HttpContext context, string session)
    {
        var presented = context.Request.Headers[CsrfHeader].ToString();
        var expected = Csrf(session);
        return presented.Length > 0 && expected.Length > 0
            && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(presented), Encoding.ASCII.GetBytes(expected));
    }

    public void Succeed(HttpContext context) => throttle.Succeed(Address(context));

    /// <summary>Counts and logs a refused attempt, and waits as long as the throttle says before the answer goes out.</summary>
    public async Task FailAsync(HttpContext context, string reason)
    {
        var address = Address(context);
        var (failures, delay) = throttle.Fail(address);
        DashboardLog.Refused(logger, context.Request.Path.ToString(), address.ToString(), reason, failures, (long)delay.TotalMilliseconds);
        if (delay > TimeSpan.Zero)
        {
            await Task.Delay(delay, context.RequestAborted).ConfigureAwait(false);
        }
    }

    private static IPAddress Address(HttpContext context) => context.Connection.RemoteIpAddress ?? IPAddress.None;

    private string? Sign(string what) => token.Sign(Encoding.UTF8.GetBytes(what)) is { } mac ? Base64Url(mac) : null;

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
