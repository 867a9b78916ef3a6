namespace Meeshkan.Bench;

/// <summary>Where the programs under test are, and where the results go.</summary>
internal sealed record Options(string Meeshkan, string Hello, string? HelloNative, string Work, string Out, string? Notes, string? PythonResults, string Build, bool Quick)
{
    public static Options Parse(string[] args)
    {
        string Value(string name, string? fallback = null)
        {
            var i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1]
                : fallback ?? throw new ArgumentException($"missing {name}; usage: --meeshkan PATH --hello PATH --work DIR --out FILE [--build TEXT] [--quick]");
        }
        return new Options(
            Path.GetFullPath(Value("--meeshkan")),
            Path.GetFullPath(Value("--hello")),
            args.Contains("--hello-native") ? Path.GetFullPath(Value("--hello-native")) : null,
            Path.GetFullPath(Value("--work", "/tmp/mkbench")),
            Path.GetFullPath(Value("--out", "docs/benchmarks.md")),
            args.Contains("--notes") ? Path.GetFullPath(Value("--notes")) : null,
            args.Contains("--python-results") ? Path.GetFullPath(Value("--python-results")) : null,
            Value("--build", "?"),
            args.Contains("--quick"));
    }
}
