using System.Globalization;
using Meeshkan.V1;

namespace Meeshkan.Agent.Executors.Slurm;

/// <summary>What Slurm says about one job: its state (PENDING, RUNNING, COMPLETED, TIMEOUT...), the reason, the node, and how it exited.</summary>
public sealed record SlurmJobStatus(long JobId, string State, string Reason, string Nodes, int? ExitCode, int? Signal)
{
    /// <summary>When the job ended, by the cluster's clock (squeue's EndTime, sacct's End); null while it runs or when unknown.</summary>
    public DateTimeOffset? EndedAt { get; init; }

    private static readonly HashSet<string> Waiting = ["PENDING", "CONFIGURING", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED", "RESV_DEL_HOLD", "SPECIAL_EXIT"];
    private static readonly HashSet<string> Ended =
        ["COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "OUT_OF_MEMORY", "NODE_FAIL", "PREEMPTED", "BOOT_FAIL", "DEADLINE", "REVOKED"];

    /// <summary>Waiting for resources (Meeshkan: QUEUED).</summary>
    public bool IsWaiting => Waiting.Contains(State);

    /// <summary>Ended for good: the job's processes are gone.</summary>
    public bool IsEnded => Ended.Contains(State);

    /// <summary>What `list` shows next to the state: <c>Slurm 12 PENDING (Resources)</c>, <c>Slurm 12 RUNNING on node7</c>.</summary>
    public string Describe()
    {
        var text = string.Create(CultureInfo.InvariantCulture, $"Slurm {JobId} {State}");
        if (IsWaiting || IsEnded)
        {
            return HasReason ? $"{text} ({Reason})" : text;
        }
        return Nodes.Length > 0 ? $"{text} on {Nodes}" : text;
    }

    private bool HasReason => Reason.Length > 0 && Reason is not "None" and not "(null)";

    /// <summary>The Meeshkan end of an ended job: state, exit code and the reason in the user's words, Slurm's own kept.</summary>
    public (JobState State, int? ExitCode, string? Reason) Outcome()
    {
        var slurm = HasReason ? $"{State}, {Reason}" : State;
        return State switch
        {
            "COMPLETED" => (JobState.Finished, 0, null),
            "FAILED" when Signal is > 0 => (JobState.Failed, 128 + Signal, $"killed by signal {Signal} (Slurm {JobId}: {slurm})"),
            "FAILED" => (JobState.Failed, ExitCode, $"exit status {ExitCode?.ToString(CultureInfo.InvariantCulture) ?? "unknown"} (Slurm {JobId}: {slurm})"),
            "CANCELLED" => (JobState.Canceled, ExitCode is > 0 ? ExitCode : null, $"canceled in Slurm (Slurm {JobId}: {slurm})"),
            "TIMEOUT" => (JobState.Failed, null, $"time limit reached (Slurm {JobId}: {slurm})"),
            "OUT_OF_MEMORY" => (JobState.Failed, null, $"out of memory (Slurm {JobId}: {slurm})"),
            "NODE_FAIL" => (JobState.Failed, null, $"its node failed (Slurm {JobId}: {slurm})"),
            "PREEMPTED" => (JobState.Failed, null, $"preempted by another job (Slurm {JobId}: {slurm})"),
            "BOOT_FAIL" => (JobState.Failed, null, $"its node failed to boot (Slurm {JobId}: {slurm})"),
            "DEADLINE" => (JobState.Failed, null, $"deadline passed before it could run (Slurm {JobId}: {slurm})"),
            _ => (JobState.Failed, ExitCode, $"Slurm {JobId}: {slurm}"),
        };
    }

    /// <summary>
    /// One line of <c>squeue -h -t all -O JobID:|,State:|,Reason:|,NodeList:|,exit_code:|,EndTime:|</c>; the exit code is a wait
    /// status there (768 = exit 3, 15 = signal 15). Null for a line that is not one.
    /// </summary>
    public static SlurmJobStatus? FromSqueue(string line)
    {
        var f = line.Split('|');
        if (f.Length < 5 || !TryId(f[0], out var id))
        {
            return null;
        }
        int? exit = null, signal = null;
        if (int.TryParse(f[4].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var status))
        {
            exit = status >> 8 & 0xff;
            signal = status & 0x7f;
        }
        var state = BaseState(f[1]);
        return new SlurmJobStatus(id, state, f[2].Trim(), NodeList(f[3]), exit, signal) { EndedAt = Ended.Contains(state) && f.Length > 5 ? Time(f[5]) : null };
    }

    /// <summary>One line of <c>sacct [-c] -n -X --parsable2 -o JobID,State,ExitCode,NodeList,Reason,End</c>; ExitCode is <c>CODE:SIGNAL</c>.</summary>
    public static SlurmJobStatus? FromSacct(string line)
    {
        var f = line.Split('|');
        if (f.Length < 4 || !TryId(f[0], out var id))
        {
            return null;
        }
        int? exit = null, signal = null;
        var codes = f[2].Split(':');
        if (codes.Length == 2 && int.TryParse(codes[0], NumberStyles.None, CultureInfo.InvariantCulture, out var e)
            && int.TryParse(codes[1], NumberStyles.None, CultureInfo.InvariantCulture, out var s))
        {
            (exit, signal) = (e, s);
        }
        return new SlurmJobStatus(id, BaseState(f[1]), f.Length > 4 ? f[4].Trim() : "", NodeList(f[3]), exit, signal)
        {
            EndedAt = f.Length > 5 ? Time(f[5]) : null,
        };
    }

    /// <summary>"CANCELLED by 0" -> CANCELLED (sacct adds who canceled).</summary>
    private static string BaseState(string state) => state.Trim().Split(' ')[0].TrimEnd('+');

    private static string NodeList(string nodes) => nodes.Trim() is "(null)" or "None assigned" ? "" : nodes.Trim();

    /// <summary>Slurm's times are the cluster's local time without a zone (2026-12-03T12:58:43); Unknown and None are not times.</summary>
    private static DateTimeOffset? Time(string text) =>
        DateTime.TryParseExact(text.Trim(), "yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture, DateTimeStyles.AssumeLocal, out var time)
            ? new DateTimeOffset(time)
            : null;

    private static bool TryId(string text, out long id) =>
        long.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out id);
}
