namespace Meeshkan.Agent.Charts;

/// <summary>One line of a chart: a scalar's values over steps, in the order reported.</summary>
public sealed record ChartSeries(string Name, double[] Steps, double[] Values);
