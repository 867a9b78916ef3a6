using System.Collections.Frozen;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Meeshkan.Agent.Dashboard;

/// <summary>
/// The page's files (web/), embedded in the agent at build time: no CDN, no files beside the executable, works
/// offline. None of them holds data or a secret. Each file is also served under a name with its content's hash in it
/// (app.3f2a9c01d4e5b6a7.js), which is what the page links to: those are cached for a year and never asked for again
/// until the agent serves different files, so a page load waits for no asset. The page itself and the plain names
/// are revalidated (ETag).
/// </summary>
internal static class DashboardAssets
{
    private const string Prefix = "Meeshkan.Dashboard.";
    private const string Page = "index.html";

    private sealed record Asset(byte[] Bytes, string ContentType, string ETag, bool Immutable);

    private static readonly FrozenDictionary<string, Asset> Assets = Load();

    private static FrozenDictionary<string, Asset> Load()
    {
        var assembly = typeof(DashboardAssets).Assembly;
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith(Prefix, StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var memory = new MemoryStream();
            stream.CopyTo(memory);
            files[resource[Prefix.Length..]] = memory.ToArray();
        }
        var assets = new Dictionary<string, Asset>(StringComparer.Ordinal);
        var hashed = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, bytes) in files.Where(f => f.Key != Page))
        {
            var hash = Hash(bytes);
            var versioned = $"{Path.GetFileNameWithoutExtension(name)}.{hash}{Path.GetExtension(name)}";
            hashed[name] = versioned;
            assets[name] = new Asset(bytes, ContentType(name), $"\"{hash}\"", Immutable: false);
            assets[versioned] = assets[name] with { Immutable = true };
        }
        if (files.TryGetValue(Page, out var page))
        {
            // The page links to the hashed names.
            var html = Encoding.UTF8.GetString(page);
            foreach (var (name, versioned) in hashed)
            {
                html = html.Replace($"\"/assets/{name}\"", $"\"/assets/{versioned}\"", StringComparison.Ordinal);
            }
            var bytes = Encoding.UTF8.GetBytes(html);
            assets[Page] = new Asset(bytes, ContentType(Page), $"\"{Hash(bytes)}\"", Immutable: false);
        }
        return assets.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private static string Hash(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes))[..16];

    public static bool Exists(string name) => Assets.ContainsKey(name);

    public static async Task WriteAsync(HttpContext context, string name)
    {
        if (!Assets.TryGetValue(name, out var asset))
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }
        context.Response.Headers.ETag = asset.ETag;
        context.Response.Headers.CacheControl = asset.Immutable ? "public, max-age=31536000, immutable" : "no-cache";
        if (context.Request.Headers.IfNoneMatch == asset.ETag)
        {
            context.Response.StatusCode = StatusCodes.Status304NotModified;
            return;
        }
        context.Response.ContentType = asset.ContentType;
        context.Response.ContentLength = asset.Bytes.Length;
        await context.Response.Body.WriteAsync(asset.Bytes, context.RequestAborted).ConfigureAwait(false);
    }

    private static string ContentType(string name) => Path.GetExtension(name) switch
    {
        ".html" => "text/html; charset=utf-8",
        ".js" => "text/javascript; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".svg" => "image/svg+xml",
        _ => "text/plain; charset=utf-8",
    };
}
