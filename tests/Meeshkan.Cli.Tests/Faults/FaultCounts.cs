namespace Meeshkan.Cli.Tests.Faults;

/// <summary>What the fault-injection suite did, summed over every test in it; printed at the end of the run.</summary>
public static class FaultCounts
{
    private static long _faultsInjected;
    private static long _badInputsTried;
    private static long _itemsChecked;
    private static long _itemsLost;

    /// <summary>A kill -9, a restart, a corrupted or locked file, a second user: something done to the system.</summary>
    public static void Fault(int count = 1) => Interlocked.Add(ref _faultsInjected, count);

    /// <summary>An input the CLI or the agent must refuse (or take) cleanly.</summary>
    public static void BadInput(int count = 1) => Interlocked.Add(ref _badInputsTried, count);

    /// <summary>A job, log byte, scalar or file verified afterwards.</summary>
    public static void Checked(long count = 1) => Interlocked.Add(ref _itemsChecked, count);

    /// <summary>Items that should have survived and did not (the suite fails when this is not 0).</summary>
    public static void Lost(long count) => Interlocked.Add(ref _itemsLost, count);

    public static string Summary =>
        $"fault-injection suite: {Interlocked.Read(ref _faultsInjected)} faults injected, " +
        $"{Interlocked.Read(ref _badInputsTried)} bad inputs tried, {Interlocked.Read(ref _itemsChecked)} items checked, " +
        $"{Interlocked.Read(ref _itemsLost)} items lost";
}
