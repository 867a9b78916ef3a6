using Cocona;
using Meeshkan.Cli;
using Meeshkan.Cli.Commands;

var arguments = CommandLine.Normalize(args);
var builder = CoconaApp.CreateBuilder(arguments, options =>
{
    options.TreatPublicMethodsAsCommands = false;
    options.EnableShellCompletionSupport = false;
});
var app = builder.Build();
app.AddCommands<AgentCommands>();
app.AddCommands<JobCommands>();
app.AddCommands<OutputCommands>();
app.AddCommands<SetupCommands>();
app.AddCommands<RemoteCommands>();
await app.RunAsync();
if (arguments is ["--help"])
{
    // Asking for help is a success (Cocona says 129: no command given).
    Environment.ExitCode = 0;
}
