using System.Diagnostics;
using System.Security.Cryptography;
using Meeshkan.Testing;

namespace Meeshkan.Slurm.Tests.Cluster;

/// <summary>
/// A real single-node Slurm on this machine (Debian's slurmctld, slurmd and munge; FIELD-NOTES "Slurm on one machine"):
/// its own slurm.conf, munge key and socket, state, spool and logs in a temporary folder, on free ports, so that it
/// touches nothing of the machine's own /etc/slurm. Every client command needs <see cref="ConfPath"/> as SLURM_CONF.
/// </summary>
public sealed class SlurmCluster : IDisposable
{
    private static readonly string[] Daemons = ["munged", "slurmctld", "slurmd", "sbatch", "squeue", "sacct", "scontrol", "scancel", "sinfo"];

    private SlurmCluster(string root)
    {
        Root = root;
    }

    /// <summary>The temporary folder holding the configuration, state and logs.</summary>
    public string Root { get; }

    public string ConfPath => Path.Combine(Root, "slurm.conf");

    /// <summary>The job completion file `sacct -c` reads (no slurmdbd here).</summary>
    public string JobCompPath => Path.Combine(Root, "jobcomp.txt");

    public string LogFolder => Path.Combine(Root, "log");

    /// <summary>The environment every Slurm client needs.</summary>
    public IReadOnlyDictionary<string, string> Environment => new Dictionary<string, string> { ["SLURM_CONF"] = ConfPath };

    /// <summary>Writes the configuration, starts munged, slurmctld and slurmd, and returns once the node is idle.</summary>
    public static SlurmCluster Start()
    {
        var missing = Daemons.Where(d => Which(d) is null).ToList();
        if (missing.Count > 0)
        {
            throw new InvalidOperationException(
                $"Slurm is not installed ({string.Join(", ", missing)} missing): run ./build.sh once, or apt-get install slurmctld slurmd slurm-client munge");
        }
        if (System.Environment.UserName != "root")
        {
            throw new InvalidOperationException("the Slurm tests start slurmd, which must run as root: run them as root (CI does)");
        }
        // Short and world-traversable: jobs and munge clients reach the socket in it.
        var root = Directory.CreateTempSubdirectory("slurm-").FullName;
        File.SetUnixFileMode(root, (UnixFileMode)0b111_101_101);
        var cluster = new SlurmCluster(root);
        try
        {
            cluster.WriteConfig();
            cluster.StartMunge();
            cluster.StartController();
            cluster.Daemon("slurmd", "-f", cluster.ConfPath);
            cluster.WaitForIdleNode(TimeSpan.FromSeconds(60));
            return cluster;
        }
        catch
        {
            cluster.Dispose();
            throw;
        }
    }

    /// <summary>Starts slurmctld (again, after <see cref="StopController"/>: it reads its saved state back).</summary>
    public void StartController()
    {
        Daemon("slurmctld", "-f", ConfPath);
        var clock = Stopwatch.StartNew();
        while (Client("scontrol", "ping").Stdout.Contains("DOWN", StringComparison.Ordinal))
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(30))
            {
                throw new TimeoutException("slurmctld did not answer within 30 s: " + LogTail("slurmctld.log"));
            }
            Thread.Sleep(100);
        }
    }

    /// <summary>Stops slurmctld only (SIGTERM; it saves its state); jobs on the node run on.</summary>
    public void StopController()
    {
        if (ReadPid("slurmctld.pid") is { } pid)
        {
            Signal(pid, "TERM");
            WaitGone(pid, TimeSpan.FromSeconds(30));
        }
    }

    /// <summary>Runs a Slurm client command (sbatch, squeue, ...) against this cluster.</summary>
    public CliResult Client(string program, params string[] args) =>
        MeeshkanSandbox.RunProgram(program, args, Root, Environment, TimeSpan.FromSeconds(60));

    /// <summary>The node's state as `sinfo` prints it (idle, mixed, allocated, down...).</summary>
    public string NodeState => Client("sinfo", "-h", "-N", "-o", "%T").Stdout.Trim();

    /// <summary>Cancels every job of this cluster and waits until none runs.</summary>
    public void CancelAll()
    {
        Client("scancel", "--user", System.Environment.UserName);
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(30)
               && Client("squeue", "-h", "-t", "PD,R,CG,S", "-o", "%i").Stdout.Trim().Length > 0)
        {
            Thread.Sleep(200);
        }
    }

    public string LogTail(string file)
    {
        var path = Path.Combine(LogFolder, file);
        return File.Exists(path) ? string.Join('\n', File.ReadLines(path).TakeLast(15)) : $"({file} not written)";
    }

    public void Dispose()
    {
        try
        {
            if (ReadPid("slurmctld.pid") is not null)
            {
                CancelAll();
                Client("scontrol", "shutdown");
            }
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException or System.ComponentModel.Win32Exception)
        {
            // Best effort; the pids below go anyway.
        }
        foreach (var file in new[] { "slurmctld.pid", "slurmd.pid" })
        {
            if (ReadPid(file) is { } pid)
            {
                WaitGone(pid, TimeSpan.FromSeconds(10));
                Signal(pid, "KILL");
            }
        }
        // Last: slurmd needs munge to shut down promptly (without it, it ignores SIGTERM for ~90 s).
        if (ReadPid(Path.Combine("munge", "munged.pid")) is { } munge)
        {
            Signal(munge, "TERM");
            WaitGone(munge, TimeSpan.FromSeconds(10));
        }
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private void WriteConfig()
    {
        foreach (var folder in new[] { "state", "spool", "log", "munge" })
        {
            Directory.CreateDirectory(Path.Combine(Root, folder));
        }
        var node = Program("slurmd", "-C").Stdout.Split('\n')[0].Trim();
        if (!node.StartsWith("NodeName=", StringComparison.Ordinal))
        {
            throw new InvalidOperationException("slurmd -C printed no node line: " + node);
        }
        var host = Program("hostname", "-s").Stdout.Trim();
        var config = $"""
            ClusterName=meeshkan-test
            SlurmctldHost={host}(127.0.0.1)
            SlurmctldPort={Ports.Free()}
            SlurmdPort={Ports.Free()}
            SlurmUser=root
            SlurmdUser=root
            AuthType=auth/munge
            AuthInfo=socket={MungeSocket}
            CredType=cred/munge
            ProctrackType=proctrack/linuxproc
            TaskPlugin=task/none
            SelectType=select/cons_tres
            SelectTypeParameters=CR_Core
            SchedulerParameters=batch_sched_delay=0
            DependencyParameters=kill_invalid_depend
            ReturnToService=2
            JobAcctGatherType=jobacct_gather/none
            AccountingStorageType=accounting_storage/none
            JobCompType=jobcomp/filetxt
            JobCompLoc={JobCompPath}
            MinJobAge=300
            KillWait=5
            MpiDefault=none
            StateSaveLocation={Root}/state
            SlurmdSpoolDir={Root}/spool
            SlurmctldPidFile={Root}/slurmctld.pid
            SlurmdPidFile={Root}/slurmd.pid
            SlurmctldLogFile={LogFolder}/slurmctld.log
            SlurmdLogFile={LogFolder}/slurmd.log
            {node} NodeAddr=127.0.0.1 State=UNKNOWN
            PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP

            """;
        File.WriteAllText(ConfPath, config);
    }

    private string MungeSocket => Path.Combine(Root, "munge", "munge.sock");

    private void StartMunge()
    {
        var folder = Path.Combine(Root, "munge");
        var key = Path.Combine(folder, "munge.key");
        File.WriteAllBytes(key, RandomNumberGenerator.GetBytes(1024));
        File.SetUnixFileMode(key, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        // --force: munged refuses a socket folder it considers insecure otherwise (this one is root's, 0755).
        Daemon("munged", "--force", $"--socket={MungeSocket}", $"--key-file={key}",
            $"--log-file={Path.Combine(folder, "munged.log")}", $"--pid-file={Path.Combine(folder, "munged.pid")}",
            $"--seed-file={Path.Combine(folder, "munged.seed")}");
    }

    private void WaitForIdleNode(TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        var state = "";
        while (clock.Elapsed < timeout)
        {
            state = NodeState;
            if (state == "idle")
            {
                return;
            }
            Thread.Sleep(100);
        }
        throw new TimeoutException($"the Slurm node is '{state}', not idle, after {timeout}: {LogTail("slurmd.log")}\n{LogTail("slurmctld.log")}");
    }

    /// <summary>Starts a daemon that forks itself into the background; fails with its output if it does not.</summary>
    private void Daemon(string program, params string[] args)
    {
        var result = MeeshkanSandbox.RunProgram(Which(program)!, args, Root, Environment, TimeSpan.FromSeconds(30));
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} did not start: {result}");
        }
    }

    private CliResult Program(string program, params string[] args) =>
        MeeshkanSandbox.RunProgram(program, args, Root, Environment, TimeSpan.FromSeconds(30));

    private int? ReadPid(string file)
    {
        var path = Path.Combine(Root, file);
        return File.Exists(path) && int.TryParse(File.ReadAllText(path).Trim(), out var pid) && Alive(pid) ? pid : null;
    }

    private static bool Alive(int pid) => Directory.Exists($"/proc/{pid}") && !File.ReadAllText($"/proc/{pid}/stat").Contains(") Z ", StringComparison.Ordinal);

    private static void Signal(int pid, string signal) =>
        MeeshkanSandbox.RunProgram("kill", [$"-{signal}", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)], "/", null, TimeSpan.FromSeconds(10));

    private static void WaitGone(int pid, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout && Alive(pid))
        {
            Thread.Sleep(50);
        }
    }

    private static string? Which(string program) =>
        new[] { "/usr/sbin", "/usr/bin", "/sbin", "/bin" }.Select(d => Path.Combine(d, program)).FirstOrDefault(File.Exists);
}
