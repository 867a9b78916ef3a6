using System.Diagnostics;
using Meeshkan.Testing;

namespace Meeshkan.Cli.Tests;

/// <summary>
/// `meeshkan start` runs the agent under its keeper (Executors/Local/JobKeeper): the agent starts each job's command
/// itself, and the keeper records the ends the agent could not see. `meeshkan agent` in the foreground has no keeper:
/// each job keeps its own `sh` parent, which records its status in the job folder.
/// </summary>
[TestFixture]
public sealed class KeeperTests() : SandboxFixture(AgentPer.Test)
{
    [Test]
    public void Under_meeshkan_start_a_job_is_its_own_command_started_by_the_agent_which_runs_under_its_keeper()
    {
        var number = Sandbox.Submit("sleep", "60");
        var job = Sandbox.WaitForState(number, TimeSpan.FromSeconds(20), "RUNNING");
        var agent = Sandbox.AgentPid!.Value;
        Assert.That(Processes.CommandLine(job.Pid), Is.EqualTo(new[] { "/usr/bin/sleep", "60" }).Or.EqualTo(new[] { "/bin/sleep", "60" }),
            "no shell in between");
        Assert.That(Processes.ParentOf(job.Pid), Is.EqualTo(agent));
        var keeper = Processes.ParentOf(agent);
        Assert.That(Processes.CommandLine(keeper), Does.Contain("job-keeper"));
        Assert.That(Processes.CommandLine(keeper), Does.Not.Contain("agent"), "tools that look for `meeshkan agent` find only the agent");
        var logs = Path.Combine(job.OutputDirectory, "stdout");
        Assert.That(File.Exists(logs), "its stdout goes to the job folder");
        Sandbox.Ok("cancel", "-y", number.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.That(Sandbox.WaitForEnd(number).State, Is.EqualTo("CANCELED"));
    }

    [Test]
    public void The_keeper_leaves_with_the_agent_once_the_jobs_it_was_left_have_ended()
    {
        var release = Path.Combine(Sandbox.WorkDir, "release");
        var number = Sandbox.Submit("sh", "-c", $"while [ ! -e '{release}' ]; do sleep 0.05; done; exit 4");
        var job = Sandbox.WaitForState(number, TimeSpan.FromSeconds(20), "RUNNING");
        var keeper = Processes.ParentOf(Sandbox.AgentPid!.Value);
        Sandbox.Ok("stop");
        Thread.Sleep(300);
        Assert.That(Processes.Alive(keeper), Is.True, "it stays while the job it was left runs");
        Assert.That(Processes.ParentOf(job.Pid), Is.EqualTo(keeper), "the job is its child now");
        File.WriteAllText(release, "");
        Wait.For(() => !Processes.Alive(keeper), "the keeper leaves", 30);
        Sandbox.Start();
        var ended = Sandbox.WaitForEnd(number);
        Assert.That((ended.State, ended.ExitCode), Is.EqualTo(("FAILED", (int?)4)), "the status the keeper recorded");
    }

    [Test]
    public void A_command_that_needs_a_shell_to_run_still_runs_as_it_would_in_a_shell()
    {
        // No #! line: exec refuses it, a shell runs it as a script.
        Sandbox.WriteFile("plain.sh", "echo plain; exit 5\n", executable: true);
        var number = Sandbox.Submit("./plain.sh");
        var ended = Sandbox.WaitForEnd(number);
        Assert.That((ended.State, ended.ExitCode), Is.EqualTo(("FAILED", (int?)5)));
        Assert.That(File.ReadAllText(Path.Combine(ended.OutputDirectory, "stdout")), Is.EqualTo("plain\n"));
    }

    [Test]
    public void A_foreground_agent_gives_each_job_a_shell_parent_that_records_its_status_while_the_agent_is_down()
    {
        Sandbox.Ok("stop");
        using var agent = Foreground();
        Wait.For(() => Sandbox.Run("status").ExitCode == 0, "the foreground agent answers", 60);
        // Held on a file, not on a sleep: it is still running when its parent is looked at, however loaded the machine.
        var release = Path.Combine(Sandbox.WorkDir, "release");
        var number = Sandbox.Submit("sh", "-c", $"while [ ! -e '{release}' ]; do sleep 0.05; done; exit 3");
        var job = Sandbox.WaitForState(number, TimeSpan.FromSeconds(20), "RUNNING");
        Assert.That(Processes.CommandLine(job.Pid), Does.Contain("meeshkan-job"), "its `sh` parent");
        agent.Kill();
        agent.WaitForExit(30_000);
        File.WriteAllText(release, "");
        Wait.For(() => !Processes.Alive(job.Pid), "the job ends while no agent runs", 30);
        Sandbox.Start();
        var ended = Sandbox.WaitForEnd(number);
        Assert.That((ended.State, ended.ExitCode), Is.EqualTo(("FAILED", (int?)3)));
    }

    private Process Foreground()
    {
        var start = new ProcessStartInfo(MeeshkanSandbox.Executable, ["agent"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Sandbox.WorkDir,
        };
        foreach (var (key, value) in Sandbox.Environment)
        {
            start.Environment[key] = value;
        }
        start.Environment["MEESHKAN_HOME"] = Sandbox.Home;
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }
}
