using System.Buffers.Text;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Meeshkan.Agent.Remote;

/// <summary>
/// What guards the TCP listener: a self-signed certificate (the client pins its fingerprint) and an access token.
/// Both are made on first use and kept in the data folder, mode 0600. The agent and `meeshkan remote` share this code.
/// </summary>
public static class RemoteCredentials
{
    /// <summary>Bytes of randomness in a token (shown as 43 base64url characters).</summary>
    public const int TokenBytes = 32;

    /// <summary>The agent's certificate with its private key, made now if there is none yet.</summary>
    public static X509Certificate2 LoadOrCreateCertificate(MeeshkanHome home)
    {
        if (!File.Exists(home.CertificatePath))
        {
            PrivateFile.CreateOnce(home.CertificatePath, CreateCertificatePfx());
        }
        return X509CertificateLoader.LoadPkcs12FromFile(home.CertificatePath, password: null,
            X509KeyStorageFlags.EphemeralKeySet);
    }

    /// <summary>The token in force, made now if there is none yet.</summary>
    public static string LoadOrCreateToken(MeeshkanHome home)
    {
        if (!File.Exists(home.AccessTokenPath))
        {
            PrivateFile.CreateOnce(home.AccessTokenPath, Encoding.ASCII.GetBytes(NewToken() + "\n"));
        }
        return ReadToken(home.AccessTokenPath) ?? throw new InvalidDataException($"{home.AccessTokenPath} is empty; run `meeshkan remote rotate`");
    }

    /// <summary>Replaces the token; a running agent uses the new one for the next call.</summary>
    public static string RotateToken(MeeshkanHome home)
    {
        var token = NewToken();
        PrivateFile.Write(home.AccessTokenPath, Encoding.ASCII.GetBytes(token + "\n"));
        return token;
    }

    /// <summary>The token stored in <paramref name="path"/>, or null when the file is missing or empty.</summary>
    public static string? ReadToken(string path)
    {
        try
        {
            var token = File.ReadAllText(path).Trim();
            return token.Length == 0 ? null : token;
        }
        catch (FileNotFoundException)
        {
            return null;
        }
    }

    private static string NewToken() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(TokenBytes));

    /// <summary>ECDSA P-256, valid ten years, for this machine's names and loopback; clients pin it, so names are informative.</summary>
    private static byte[] CreateCertificatePfx()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN=meeshkan agent on {Dns.GetHostName()}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        if (Uri.CheckHostName(Dns.GetHostName()) == UriHostNameType.Dns)
        {
            names.AddDnsName(Dns.GetHostName());
        }
        names.AddIpAddress(IPAddress.Loopback);
        names.AddIpAddress(IPAddress.IPv6Loopback);
        request.CertificateExtensions.Add(names.Build());
        var now = DateTimeOffset.UtcNow;
        using var certificate = request.CreateSelfSigned(now.AddDays(-1), now.AddYears(10));
        return certificate.Export(X509ContentType.Pkcs12);
    }
}
