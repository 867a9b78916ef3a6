using System.Runtime.CompilerServices;

namespace Meeshkan;

/// <summary>
/// The process-wide reporter, for programs that just want to report:
/// <c>Scalars.Report("train loss", loss)</c>. It mirrors the Python module API
/// (<c>meeshkan.report_scalar</c>, <c>add_condition</c>, <c>notify</c>, <c>flush</c>) and is flushed at process exit.
/// </summary>
/// <remarks>
/// The reporter is created on first use with the default <see cref="ScalarReporterOptions"/>
/// (job from <c>MEESHKAN_JOB_ID</c>, socket from <c>MEESHKAN_SOCKET</c> or <c>MEESHKAN_HOME</c>).
/// Run the program as a job with <c>meeshkan submit</c>, or wrap it in <see cref="MeeshkanJob"/>.
/// </remarks>
public static class Scalars
{
    private static readonly Lazy<ScalarReporter> s_reporter = new(() => new ScalarReporter());

    /// <summary>The process-wide reporter.</summary>
    public static ScalarReporter Reporter => s_reporter.Value;

    /// <inheritdoc cref="ScalarReporter.ReportScalar(string, double)"/>
    public static void Report(string name, double value) => Reporter.ReportScalar(name, value);

    /// <inheritdoc cref="ScalarReporter.ReportScalar(string, double, long)"/>
    public static void Report(string name, double value, long step) => Reporter.ReportScalar(name, value, step);

    /// <inheritdoc cref="ScalarReporter.ReportScalar(string, double, string, double)"/>
    public static void Report(string name1, double value1, string name2, double value2) =>
        Reporter.ReportScalar(name1, value1, name2, value2);

    /// <inheritdoc cref="ScalarReporter.ReportScalar(string, double, string, double, string, double)"/>
    public static void Report(string name1, double value1, string name2, double value2, string name3, double value3) =>
        Reporter.ReportScalar(name1, value1, name2, value2, name3, value3);

    /// <inheritdoc cref="ScalarReporter.ReportScalars(ReadOnlySpan{ValueTuple{string, double}})"/>
    public static void Report(params ReadOnlySpan<(string Name, double Value)> scalars) => Reporter.ReportScalars(scalars);

    /// <inheritdoc cref="ScalarReporter.AddCondition(string, bool, ConditionAction)"/>
    public static void AddCondition(string expression, bool onlyReported = false, ConditionAction action = ConditionAction.Notify) =>
        Reporter.AddCondition(expression, onlyReported, action);

    /// <inheritdoc cref="ScalarReporter.AddCondition(string, Func{double, bool}, bool, ConditionAction, string?)"/>
    public static void AddCondition(string name, Func<double, bool> condition, bool onlyReported = false,
        ConditionAction action = ConditionAction.Notify, [CallerArgumentExpression(nameof(condition))] string? description = null) =>
        Reporter.AddCondition(name, condition, onlyReported, action, description);

    /// <inheritdoc cref="ScalarReporter.AddCondition(string, string, Func{double, double, bool}, bool, ConditionAction, string?)"/>
    public static void AddCondition(string name1, string name2, Func<double, double, bool> condition, bool onlyReported = false,
        ConditionAction action = ConditionAction.Notify, [CallerArgumentExpression(nameof(condition))] string? description = null) =>
        Reporter.AddCondition(name1, name2, condition, onlyReported, action, description);

    /// <inheritdoc cref="ScalarReporter.AddCondition(string, string, string, Func{double, double, double, bool}, bool, ConditionAction, string?)"/>
    public static void AddCondition(string name1, string name2, string name3, Func<double, double, double, bool> condition,
        bool onlyReported = false, ConditionAction action = ConditionAction.Notify,
        [CallerArgumentExpression(nameof(condition))] string? description = null) =>
        Reporter.AddCondition(name1, name2, name3, condition, onlyReported, action, description);

    /// <inheritdoc cref="ScalarReporter.AddCondition(IReadOnlyList{string}, Func{double[], bool}, bool, ConditionAction, string?)"/>
    public static void AddCondition(IReadOnlyList<string> names, Func<double[], bool> condition, bool onlyReported = false,
        ConditionAction action = ConditionAction.Notify, [CallerArgumentExpression(nameof(condition))] string? description = null) =>
        Reporter.AddCondition(names, condition, onlyReported, action, description);

    /// <inheritdoc cref="ScalarReporter.NotifyAsync(string, CancellationToken)"/>
    public static Task<bool> NotifyAsync(string message, CancellationToken cancellationToken = default) =>
        Reporter.NotifyAsync(message, cancellationToken);

    /// <inheritdoc cref="ScalarReporter.FlushAsync(CancellationToken)"/>
    public static Task<bool> FlushAsync(CancellationToken cancellationToken = default) => Reporter.FlushAsync(cancellationToken);
}
