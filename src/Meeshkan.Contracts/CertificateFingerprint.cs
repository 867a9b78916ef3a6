using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Meeshkan;

/// <summary>
/// The SHA-256 fingerprint of a certificate, as `meeshkan remote token` shows it (<c>AB:CD:…</c>, 32 bytes) and as
/// `meeshkan remote add --fingerprint` accepts it (colons, spaces, case and a <c>SHA256:</c> prefix do not matter).
/// </summary>
public static class CertificateFingerprint
{
    /// <summary>The certificate's fingerprint in display form.</summary>
    public static string Of(X509Certificate certificate) => Format(certificate.GetCertHash(HashAlgorithmName.SHA256));

    /// <summary>Upper-case hex pairs joined by colons.</summary>
    public static string Format(byte[] hash) => string.Join(':', Convert.ToHexString(hash).Chunk(2).Select(p => new string(p)));

    /// <summary>The 32 bytes a typed fingerprint stands for, or null when it is not a SHA-256 fingerprint.</summary>
    public static byte[]? Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }
        var hex = text.Trim();
        if (hex.StartsWith("SHA256:", StringComparison.OrdinalIgnoreCase))
        {
            hex = hex[7..];
        }
        hex = string.Concat(hex.Where(c => c is not (':' or ' ' or '-')));
        if (hex.Length != 64)
        {
            return null;
        }
        try
        {
            return Convert.FromHexString(hex);
        }
        catch (FormatException)
        {
            return null;
        }
    }

    /// <summary>True when the certificate is the one pinned by <paramref name="expected"/>.</summary>
    public static bool Matches(X509Certificate? certificate, byte[] expected) =>
        certificate is not null && CryptographicOperations.FixedTimeEquals(certificate.GetCertHash(HashAlgorithmName.SHA256), expected);
}
