using Meeshkan.V1;

namespace Meeshkan.Cli.Commands;

/// <summary>
/// `submit --from FILE`: one job per line, all in one SubmitJobs call (all queued, or none when one is refused), the
/// way to queue hundreds of short jobs at once: one `meeshkan submit` process per job costs a process start and a
/// gRPC connection each (docs/benchmarks-parallel.md). Empty lines and lines starting with # are skipped.
/// </summary>
internal static class SubmitList
{
    /// <summary>The commands in <paramref name="from"/> (a file, or - for standard input); usage errors say which line.</summary>
    public static List<string[]> Read(string from, string[] command)
    {
        if (command.Length > 0)
        {
            throw new UsageException($"give either a command or --from FILE, not both (got --from {from} and {command[0]})");
        }
        IEnumerable<string> lines;
        try
        {
            lines = from == "-" ? ReadAll(Console.In) : File.ReadAllLines(from);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"--from {from}: cannot read it ({e.Message}); give a file with one command per line, or - for standard input");
        }
        var commands = new List<string[]>();
        var number = 0;
        foreach (var line in lines)
        {
            number++;
            if (line.TrimStart() is var text && (text.Length == 0 || text.StartsWith('#')))
            {
                continue;
            }
            try
            {
                commands.Add([.. ShellWords.Split(text)]);
            }
            catch (ArgumentException e)
            {
                throw new UsageException($"--from {from}, line {number}: {e.Message}; nothing was submitted");
            }
        }
        return commands.Count > 0 ? commands
            : throw new UsageException($"--from {from} holds no command: write one command per line (# starts a comment)");
    }

    /// <summary>One job per command, each <paramref name="template"/> (all but the command) with its own command; prints each as `submit` does.</summary>
    public static async Task<int> SubmitAsync(AgentConnection connection, SubmitJobRequest template, List<string[]> commands)
    {
        var request = new SubmitJobsRequest();
        foreach (var command in commands)
        {
            var job = template.Clone();
            job.Command.AddRange(command);
            request.Jobs.Add(job);
        }
        // One refused job refuses the call: none of them is queued.
        var reply = await SubmitPipeline.SendAsync(async () => await connection.Jobs.SubmitJobsAsync(request));
        Console.Write(string.Concat(reply.Jobs.Select(job => Output.Format.Submitted(job) + "\n")));
        return 0;
    }

    private static IEnumerable<string> ReadAll(TextReader reader)
    {
        while (reader.ReadLine() is { } line)
        {
            yield return line;
        }
    }
}
