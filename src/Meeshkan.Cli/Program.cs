using Cocona;
using Cocona.Filters;
using Meeshkan.Cli;
using Meeshkan.Cli.Commands;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

if (CommandLine.FirstNonUtf8Argument(args.Length) is { } notText)
{
    Environment.ExitCode = AgentConnection.Fail(
        $"argument {notText} is not valid UTF-8; names, commands and arguments are passed as UTF-8 text", ExitCodes.Usage);
    return;
}
var arguments = CommandLine.Normalize(args);
if (arguments is ["agent"])
{
    // What `meeshkan start` runs: the agent's own host is the only one it needs.
    Environment.ExitCode = await new AgentCommands().Agent(listen: null);
    return;
}
if (arguments is [Meeshkan.Agent.Executors.Local.JobKeeper.Command, .. var agentOptions])
{
    // What `meeshkan start` runs: the keeper, which runs `meeshkan agent` under it (internal, not in the help).
    Environment.ExitCode = Meeshkan.Agent.Executors.Local.JobKeeper.Run(Meeshkan.MeeshkanHome.FromEnvironment(),
        [.. AgentCommands.SelfCommand(), "agent", .. agentOptions]);
    return;
}
if (QuickCommands.Match(arguments) is { } quick)
{
    Environment.ExitCode = await quick();
    return;
}
// Set once a command's own code runs: any other non-zero exit is Cocona refusing the command line (a usage mistake).
var commandRan = false;
// A bare host: CoconaApp.CreateBuilder's defaults (appsettings.json, environment configuration, console logging)
// cost start-up time on every call and nothing here reads them.
using var host = new HostBuilder()
    .ConfigureCocona(arguments, configureApplication: app =>
    {
        // Before the commands: Cocona applies a filter to the commands added after it. A missing or malformed argument
        // throws out of next() before the command's code runs: only a command that returned ran.
        app.UseFilter(new DelegateCommandFilter(async (context, next) =>
        {
            var code = await next(context);
            commandRan = true;
            return code;
        }));
        app.AddCommands<AgentCommands>();
        app.AddCommands<JobCommands>();
        app.AddCommands<QueueCommands>();
        app.AddCommands<PipelineCommands>();
        app.AddCommands<OutputCommands>();
        app.AddCommands<SetupCommands>();
        app.AddCommands<RemoteCommands>();
        app.AddCommands<DashboardCommand>();
    })
    .ConfigureServices(services => services.Configure<CoconaAppOptions>(options =>
    {
        options.TreatPublicMethodsAsCommands = false;
        options.EnableShellCompletionSupport = false;
    }))
    .UseConsoleLifetime(options => options.SuppressStatusMessages = true)
    .Build();
await host.RunAsync();
if (!commandRan && Environment.ExitCode != 0)
{
    // Cocona answers help with 129 and an unknown command, an unknown option or a missing argument with 1 or 129: the
    // README promises 0 for help and 2 for a usage mistake.
    Environment.ExitCode = arguments.Contains("--help") || arguments.Contains("-h") ? 0 : ExitCodes.Usage;
}
if (arguments is ["--help"])
{
    Environment.ExitCode = 0;
    Console.WriteLine("""

        Also:
          meeshkan SCRIPT.py [ARGS...]   same as `meeshkan submit SCRIPT.py [ARGS...]` (and SCRIPT.sh, or any file)
          meeshkan clean                 another name for `meeshkan clear`
          meeshkan --remote NAME ...     runs the command against a remote agent (`meeshkan remote add`)

        Exit codes: 0 success, 1 error, 2 usage mistake, 3 no agent running, 4 no such job.
        """);
}
