using Cocona;
using Meeshkan.Cli;
using Meeshkan.Cli.Commands;

var builder = CoconaApp.CreateBuilder(CommandLine.Normalize(args), options =>
{
    options.TreatPublicMethodsAsCommands = false;
    options.EnableShellCompletionSupport = false;
});
var app = builder.Build();
app.AddCommands<AgentCommands>();
app.AddCommands<JobCommands>();
app.AddCommands<OutputCommands>();
app.AddCommands<SetupCommands>();
await app.RunAsync();
