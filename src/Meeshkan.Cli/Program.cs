using Cocona;
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
if (QuickCommands.Match(arguments) is { } quick)
{
    Environment.ExitCode = await quick();
    return;
}
// A bare host: CoconaApp.CreateBuilder's defaults (appsettings.json, environment configuration, console logging)
// cost start-up time on every call and nothing here reads them.
using var host = new HostBuilder()
    .ConfigureCocona(arguments, configureApplication: app =>
    {
        app.AddCommands<AgentCommands>();
        app.AddCommands<JobCommands>();
        app.AddCommands<PipelineCommands>();
        app.AddCommands<OutputCommands>();
        app.AddCommands<SetupCommands>();
        app.AddCommands<RemoteCommands>();
    })
    .ConfigureServices(services => services.Configure<CoconaAppOptions>(options =>
    {
        options.TreatPublicMethodsAsCommands = false;
        options.EnableShellCompletionSupport = false;
    }))
    .UseConsoleLifetime(options => options.SuppressStatusMessages = true)
    .Build();
await host.RunAsync();
if (arguments is ["--help"])
{
    // Asking for help is a success (Cocona says 129: no command given).
    Environment.ExitCode = 0;
}
