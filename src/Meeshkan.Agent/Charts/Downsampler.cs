namespace Meeshkan.Agent.Charts;

/// <summary>
/// Largest-Triangle-Three-Buckets downsampling: keeps the shape of a long series (peaks and dips included) in a
/// fixed number of points, so a chart of a million steps draws as fast as one of two thousand and is not truncated.
/// </summary>
internal static class Downsampler
{
    /// <summary>Points per series in a chart.</summary>
    public const int DefaultPoints = 2000;

    public static (double[] X, double[] Y) Lttb(IReadOnlyList<double> x, IReadOnlyList<double> y, int threshold = DefaultPoints)
    {
        var n = x.Count;
        if (threshold < 3 || n <= threshold)
        {
            return (x.ToArray(), y.ToArray());
        }
        var outX = new double[threshold];
        var outY = new double[threshold];
        var every = (double)(n - 2) / (threshold - 2);
        var a = 0;
        outX[0] = x[0];
        outY[0] = y[0];
        for (var i = 0; i < threshold - 2; i++)
        {
            // Average of the next bucket: the third corner of the triangle.
            var avgStart = (int)Math.Floor((i + 1) * every) + 1;
            var avgEnd = Math.Min((int)Math.Floor((i + 2) * every) + 1, n);
            double avgX = 0, avgY = 0;
            for (var j = avgStart; j < avgEnd; j++)
            {
                avgX += x[j];
                avgY += y[j];
            }
            var avgCount = Math.Max(1, avgEnd - avgStart);
            avgX /= avgCount;
            avgY /= avgCount;

            // The point of this bucket that makes the largest triangle with the previous pick and that average.
            var start = (int)Math.Floor(i * every) + 1;
            var end = (int)Math.Floor((i + 1) * every) + 1;
            double maxArea = -1;
            var next = start;
            for (var j = start; j < end; j++)
            {
                var area = Math.Abs((x[a] - avgX) * (y[j] - y[a]) - (x[a] - x[j]) * (avgY - y[a]));
                if (area > maxArea)
                {
                    maxArea = area;
                    next = j;
                }
            }
            outX[i + 1] = x[next];
            outY[i + 1] = y[next];
            a = next;
        }
        outX[threshold - 1] = x[n - 1];
        outY[threshold - 1] = y[n - 1];
        return (outX, outY);
    }
}
