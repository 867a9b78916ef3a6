// Reports made-up training scalars for about 20 seconds (the C# twin of examples/report.py).
//
// Build once, then submit the built program (starts in ~0.1 s; `dotnet run` would rebuild inside the job):
//   dotnet build examples/dotnet/ReportExample
//   meeshkan submit -n csharp-example -r 10 examples/dotnet/ReportExample/bin/Debug/net10.0/ReportExample
//   meeshkan report csharp-example
// Or run it by hand as a blocking job (the process registers itself with the agent):
//   examples/dotnet/ReportExample/bin/Debug/net10.0/ReportExample --blocking
// Run by hand without --blocking, nothing is recorded (one warning on stderr).
// With --diverge the train loss becomes NaN at step 10, and a stop condition ends the job there (it is FAILED, stopped
// by the condition "isnan([train loss])").
using Meeshkan;

const int Steps = 200;

if (args.Contains("--blocking"))
{
    await MeeshkanJob.RunAsync("csharp-example", TimeSpan.FromSeconds(10), TrainAsync);
}
else
{
    await TrainAsync();
}

static async Task TrainAsync()
{
    // Evaluated here, in the background, with the latest values: the evaluation loss drifts away.
    Scalars.AddCondition("train loss", "evaluation loss", (train, evaluation) => evaluation - train > 0.2);
    // Evaluated by the agent; a typo here throws ArgumentException at once.
    Scalars.AddCondition("[train loss] < 0.05");
    var diverge = Environment.GetCommandLineArgs().Contains("--diverge");
    if (diverge)
    {
        // The agent stops the job (SIGTERM, then SIGKILL) once the loss is NaN: no GPU hours burnt for nothing.
        Scalars.AddCondition("isnan([train loss])", action: ConditionAction.Stop);
    }

    for (var step = 0; step < Steps; step++)
    {
        var trainLoss = diverge && step >= 10 ? double.NaN : Math.Exp(-step / 50.0);
        var evalLoss = trainLoss + (double)step / Steps * 0.3;
        Scalars.Report("train loss", trainLoss, "evaluation loss", evalLoss);
        if (step % 20 == 0)
        {
            Console.WriteLine($"step {step}/{Steps}: train loss {trainLoss:F3}, evaluation loss {evalLoss:F3}");
        }
        await Task.Delay(100);
    }
    await Scalars.NotifyAsync($"ReportExample finished {Steps} steps");
    Console.WriteLine("done");
}
