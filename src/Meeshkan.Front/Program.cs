using Meeshkan.Cli;
using Meeshkan.Front;

// `list` and `submit CMD ARGS...` are answered here; anything else (options, help, other commands, arguments that are
// not UTF-8) becomes the complete CLI, in this same process.
if (CommandLine.FirstNonUtf8Argument(args.Length) is null && QuickCommands.Match(CommandLine.Normalize(args)) is { } quick)
{
    Environment.ExitCode = await quick();
    return;
}
Environment.ExitCode = CoreCli.Exec();
