using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Meeshkan.Cli.Remotes;

/// <summary>
/// The agents on other machines this CLI knows by name (<c>meeshkan remote add</c>), kept under <c>remotes</c> in
/// <c>$MEESHKAN_HOME/config</c>. Client settings: the agent never reads them, and keeps them as they are when it
/// writes its own settings to the same file; this class changes that one key and leaves every other as it is.
/// </summary>
internal static class RemoteList
{
    private const string Key = "remotes";

    private static readonly JsonDocumentOptions Reading = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };

    /// <summary>The stored remotes by name; none when the file or the key is missing.</summary>
    /// <exception cref="InvalidDataException">The file is not valid config; the message names the file and the line.</exception>
    public static Dictionary<string, RemoteSettings> Load(string configPath)
    {
        var remotes = Read(configPath)?[Key];
        if (remotes is null)
        {
            return new Dictionary<string, RemoteSettings>(StringComparer.Ordinal);
        }
        try
        {
            var found = remotes.Deserialize(RemoteJson.Default.DictionaryStringRemoteSettings);
            return new Dictionary<string, RemoteSettings>(found ?? [], StringComparer.Ordinal);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{configPath}: \"{Key}\"{e.Path?.TrimStart('$')} is not a list of remotes " +
                "(each: {\"address\": \"https://HOST:PORT\", \"token\": \"...\", \"fingerprint\": \"...\"}); " +
                "fix it, or remove it and run `meeshkan remote add` again", e);
        }
    }

    /// <summary>Writes <paramref name="remotes"/> under <c>remotes</c>, readable by its owner only from the first byte.</summary>
    public static void Save(string configPath, IReadOnlyDictionary<string, RemoteSettings> remotes)
    {
        var root = Read(configPath) ?? new JsonObject();
        root[Key] = remotes.Count == 0 ? null : JsonSerializer.SerializeToNode(
            new Dictionary<string, RemoteSettings>(remotes, StringComparer.Ordinal), RemoteJson.Default.DictionaryStringRemoteSettings);
        if (remotes.Count == 0)
        {
            root.Remove(Key);
        }
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            root.WriteTo(writer);
        }
        PrivateFile.Write(configPath, buffer.ToArray());
    }

    private static JsonObject? Read(string configPath)
    {
        string text;
        try
        {
            text = File.ReadAllText(configPath);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        catch (DirectoryNotFoundException)
        {
            return null;
        }
        try
        {
            return JsonNode.Parse(text, documentOptions: Reading) as JsonObject
                ?? throw new InvalidDataException($"{configPath} is not valid config (it must be one JSON object {{...}}); fix it or run `meeshkan setup` again");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{configPath} line {(e.LineNumber ?? 0) + 1} is not valid JSON; fix it or run `meeshkan setup` again", e);
        }
    }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(Dictionary<string, RemoteSettings>))]
internal sealed partial class RemoteJson : JsonSerializerContext;
