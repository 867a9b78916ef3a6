using System.Security.Cryptography;
using System.Text;

namespace Meeshkan.Agent.Remote;

/// <summary>
/// The token remote calls must carry. The file is checked (one stat) on each call and re-read when it changed, so
/// `meeshkan remote rotate` applies without a restart; the old token stops working at once.
/// </summary>
public sealed class AccessToken
{
    private readonly string _path;
    private readonly Lock _lock = new();
    private (DateTime Time, long Length) _stamp;
    private byte[]? _hash;

    public AccessToken(MeeshkanHome home)
    {
        _path = home.AccessTokenPath;
        RemoteCredentials.LoadOrCreateToken(home);
        Refresh();
    }

    /// <summary>True when <paramref name="presented"/> is the token in force. Takes the same time whatever it is.</summary>
    public bool Verify(string presented)
    {
        var expected = Refresh();
        if (expected is null)
        {
            return false;
        }
        // Hashing first gives both sides the same length, so the comparison time says nothing about the token.
        var actual = SHA256.HashData(Encoding.UTF8.GetBytes(presented));
        return CryptographicOperations.FixedTimeEquals(actual, expected);
    }

    /// <summary>An HMAC-SHA256 of <paramref name="data"/> keyed by the token in force (dashboard sessions); null without one.</summary>
    public byte[]? Sign(ReadOnlySpan<byte> data) => Refresh() is { } key ? HMACSHA256.HashData(key, data) : null;

    private byte[]? Refresh()
    {
        lock (_lock)
        {
            var info = new FileInfo(_path);
            var stamp = info.Exists ? (info.LastWriteTimeUtc, info.Length) : (DateTime.MinValue, -1L);
            if (stamp != _stamp || _hash is null)
            {
                var token = RemoteCredentials.ReadToken(_path);
                _hash = token is null ? null : SHA256.HashData(Encoding.UTF8.GetBytes(token));
                _stamp = stamp;
            }
            return _hash;
        }
    }
}
