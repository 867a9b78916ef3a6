using Cocona;
using Meeshkan.Cli.Output;
using Meeshkan.V1;

namespace Meeshkan.Cli.Commands;

/// <summary>wait and retry: jobs in shell scripts and pipelines.</summary>
internal sealed class PipelineCommands
{
    [Command("wait", Description = "Waits until the jobs end; exits 0 when all FINISHED, else with the exit status of the first that did not.")]
    public Task<int> Wait([Argument(Description = "Job numbers, UUIDs or names")] string[] jobs) =>
        AgentConnection.RunAsync(async connection =>
        {
            if (jobs.Length == 0)
            {
                throw new UsageException("name the jobs to wait for: meeshkan wait JOB [JOB...]");
            }
            var request = new WaitJobsRequest();
            request.Identifiers.AddRange(jobs);
            var reply = await connection.Jobs.WaitJobsAsync(request);
            var status = 0;
            foreach (var job in reply.Jobs)
            {
                var reason = job.FailureReason.Length > 0 ? $": {job.FailureReason}" : "";
                Console.WriteLine($"Job {job.Number} ({job.Name}) {Format.State(job.State)}{reason}");
                if (status == 0 && job.State != JobState.Finished)
                {
                    status = job.HasExitCode && job.ExitCode is > 0 and < 256 ? job.ExitCode : 1;
                }
            }
            return status;
        });

    [Command("retry", Description = "Queues a new job with the command, folder, environment and options of an ended one.")]
    public Task<int> Retry([Argument(Description = "Job number, UUID or name")] string job) =>
        AgentConnection.RunAsync(async connection =>
        {
            var found = await connection.Jobs.GetJobAsync(new GetJobRequest { Identifier = job });
            if (found.State is JobState.Queued or JobState.Running)
            {
                throw new UsageException(
                    $"job {found.Number} ({found.Name}) is {Format.State(found.State)}; retry an ended job (`meeshkan wait {found.Number}` or `meeshkan cancel {found.Number}` first)");
            }
            var reply = await connection.Jobs.RetryJobAsync(new RetryJobRequest { Identifier = found.Id });
            Console.WriteLine($"{Format.Submitted(reply.Job)}, a retry of job {found.Number}");
            return 0;
        });
}
