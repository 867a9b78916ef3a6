using System.Text.Json;

namespace Meeshkan.Agent.Jobs;

/// <summary>A notebook is checked at submit time, so that a broken file is refused before it is queued.</summary>
public static class Notebooks
{
    /// <summary>The path, when the file is a Jupyter notebook (JSON with a list of cells); else an InvalidRequestException saying what is wrong.</summary>
    public static string Valid(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            using var doc = JsonDocument.Parse(stream);
            if (doc.RootElement.ValueKind != JsonValueKind.Object
                || !doc.RootElement.TryGetProperty("cells", out var cells) || cells.ValueKind != JsonValueKind.Array)
            {
                throw new InvalidRequestException($"{path} is not a Jupyter notebook: it has no list of cells; save it from Jupyter (File > Save) and submit again");
            }
            return path;
        }
        catch (JsonException e)
        {
            throw new InvalidRequestException($"{path} is not a valid notebook: not JSON ({e.Message.Split(" Path:")[0].TrimEnd('.')}, line {e.LineNumber + 1}); save it from Jupyter and submit again");
        }
    }
}
