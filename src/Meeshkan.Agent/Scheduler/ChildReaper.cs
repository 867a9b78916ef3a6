using System.Collections.Concurrent;
using System.ComponentModel;
using Meeshkan.Agent.Internal;

namespace Meeshkan.Agent.Scheduler;

/// <summary>
/// One thread that waits for the job processes this agent started, in the order they started (jobs run one at a time,
/// so the one waited for is the one running). A thread started for each job cost a thread start on every dispatch.
/// What awaits an exit runs on this thread when the process ends, so the scheduler starts the next job without a hop.
/// </summary>
internal sealed class ChildReaper
{
    private readonly BlockingCollection<(int Pid, TaskCompletionSource<JobExit> Exit)> _children = [];

    public ChildReaper()
    {
        new Thread(Run) { IsBackground = true, Name = "Job reaper" }.Start();
    }

    /// <summary>Completes when child <paramref name="pid"/> (started by <see cref="PosixSpawn"/>) ends.</summary>
    public Task<JobExit> Watch(int pid)
    {
        var exit = new TaskCompletionSource<JobExit>();
        _children.Add((pid, exit));
        return exit.Task;
    }

    private void Run()
    {
        foreach (var (pid, exit) in _children.GetConsumingEnumerable())
        {
            JobExit result;
            try
            {
                result = new JobExit(PosixSpawn.WaitForExit(pid));
            }
            catch (Win32Exception e)
            {
                result = new JobExit(null, $"its exit status could not be read: {e.Message}");
            }
            exit.SetResult(result);
        }
    }
}
