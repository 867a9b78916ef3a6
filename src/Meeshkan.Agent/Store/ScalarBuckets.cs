using System.Runtime.InteropServices;
using Microsoft.Data.Sqlite;

namespace Meeshkan.Agent.Store;

/// <summary>
/// One scalar drawn for a chart <c>buckets</c> pixel columns wide: the x range is cut into that many equal buckets and
/// each keeps its lowest and highest point (in x order), so spikes survive at any zoom. A chunk narrower than a bucket
/// contributes its stored extremes (<see cref="ChunkExtent"/>) without being decoded; only chunks wider than a bucket
/// (zoomed in) or written before extents were kept are decoded. Memory and time follow the bucket and chunk counts,
/// not the point count.
/// </summary>
public sealed class ScalarBuckets(Database database)
{
    /// <summary>What a chart's x axis shows.</summary>
    public enum Axis
    {
        Step,

        /// <summary>Wall time, in seconds since the Unix epoch (what uPlot's time axis reads).</summary>
        Time,
    }

    /// <param name="X">The points' x (steps, or seconds since the epoch).</param>
    /// <param name="Points">How many stored points lie in the range.</param>
    /// <param name="Decoded">How many points had to be decoded to answer (the rest came from chunk extents).</param>
    public sealed record Result(double[] X, double[] Y, double From, double To, long Points, long Decoded);

    /// <summary>Null when the job has no scalar of that name (in that attempt; 0: its latest).</summary>
    public Result? Read(long jobNumber, string name, Axis axis, double? from, double? to, int buckets, int attempt = 0)
    {
        buckets = Math.Clamp(buckets, 1, 10_000);
        using var connection = database.Open();
        long nameId;
        using (var find = connection.CreateCommand())
        {
            find.CommandText = "SELECT id FROM scalar_names WHERE job_number = $job AND name = $name AND " +
                "attempt = CASE WHEN $attempt > 0 THEN $attempt ELSE (SELECT MAX(1, j.attempt) FROM jobs j WHERE j.number = $job) END";
            find.Parameters.AddWithValue("$job", jobNumber);
            find.Parameters.AddWithValue("$attempt", attempt);
            find.Parameters.AddWithValue("$name", name);
            if (find.ExecuteScalar() is not long id)
            {
                return null;
            }
            nameId = id;
        }
        var chunks = ReadChunks(connection, nameId, axis);
        if (chunks.Count == 0)
        {
            return new Result([], [], from ?? 0, to ?? 0, 0, 0);
        }
        using var decode = connection.CreateCommand();
        // Only the axis's column and the values: a chunk's three blobs are most of the bytes read.
        decode.CommandText = axis == Axis.Time
            ? "SELECT wall_times, vals, 0 FROM scalar_chunks WHERE rowid = $row"
            : "SELECT steps, vals, first_step FROM scalar_chunks WHERE rowid = $row";
        var row = decode.Parameters.Add(new SqliteParameter("$row", null));

        // The range, when not given, is every chunk's: from their extents, and chunks written before extents were kept
        // (schema 7) are decoded to learn theirs.
        var lo = from ?? double.PositiveInfinity;
        var hi = to ?? double.NegativeInfinity;
        if (from is null || to is null)
        {
            void Widen(double x)
            {
                lo = from is null ? Math.Min(lo, x) : lo;
                hi = to is null ? Math.Max(hi, x) : hi;
            }
            foreach (var c in chunks)
            {
                if (c.MinX is { } minX && c.MaxX is { } maxX)
                {
                    Widen(minX);
                    Widen(maxX);
                }
                else
                {
                    Decode(decode, row, c.RowId, axis, (x, _) => Widen(x));
                }
            }
        }
        var grid = new Grid(lo, hi, buckets);
        long points = 0, decoded = 0;
        foreach (var c in chunks)
        {
            if (c.MinX is { } minX && c.MaxX is { } maxX)
            {
                if (maxX < lo || minX > hi)
                {
                    continue;
                }
                if (minX >= lo && maxX <= hi && maxX - minX <= grid.Width)
                {
                    points += c.Count;
                    if (c.Lo is { } low)
                    {
                        grid.Add(c.LoX, low);
                        grid.Add(c.HiX, c.Hi!.Value);
                    }
                    continue;
                }
            }
            decoded += c.Count;
            Decode(decode, row, c.RowId, axis, (x, y) =>
            {
                if (x >= lo && x <= hi)
                {
                    points++;
                    if (double.IsFinite(y))
                    {
                        grid.Add(x, y);
                    }
                }
            });
        }
        var (xs, ys) = grid.Points();
        return new Result(xs, ys, lo, hi, points, decoded);
    }

    private sealed record Chunk(long RowId, long Count, double? MinX, double? MaxX, double? Lo, double LoX, double? Hi, double HiX);

    /// <summary>
    /// A scalar's chunks with their extents ($id: its name id), from the extents index alone (schema 9), never the rows:
    /// in a row the extents come after its three blobs, and reaching them reads every blob's overflow pages.
    /// </summary>
    internal static string ExtentsQuery(Axis axis) => axis == Axis.Step
        ? "SELECT rowid, count, min_step, max_step, lo, lo_step, hi, hi_step FROM scalar_chunks INDEXED BY scalar_chunk_extents WHERE name_id = $id ORDER BY rowid"
        : "SELECT rowid, count, min_time, max_time, lo, lo_time, hi, hi_time FROM scalar_chunks INDEXED BY scalar_chunk_extents WHERE name_id = $id ORDER BY rowid";

    private static List<Chunk> ReadChunks(SqliteConnection connection, long nameId, Axis axis)
    {
        using var command = connection.CreateCommand();
        command.CommandText = ExtentsQuery(axis);
        command.Parameters.AddWithValue("$id", nameId);
        using var reader = command.ExecuteReader();
        var chunks = new List<Chunk>();
        var scale = axis == Axis.Time ? 1e-6 : 1.0;
        while (reader.Read())
        {
            double? X(int i) => reader.IsDBNull(i) ? null : reader.GetInt64(i) * scale;
            double? V(int i) => reader.IsDBNull(i) ? null : reader.GetDouble(i);
            chunks.Add(new Chunk(reader.GetInt64(0), reader.GetInt64(1), X(2), X(3), V(4), X(5) ?? 0, V(6), X(7) ?? 0));
        }
        return chunks;
    }

    private static void Decode(SqliteCommand decode, SqliteParameter row, long rowId, Axis axis, Action<double, double> visit)
    {
        row.Value = rowId;
        using var reader = decode.ExecuteReader();
        if (!reader.Read())
        {
            return;
        }
        // Into pooled buffers, not a new array per blob: a zoomed read decodes up to a million points, 16 MB of blobs
        // in chunks of 4,096 points, which as new arrays were as much garbage for each chart request.
        var xBytes = Blob(reader, 0);
        var valueBytes = Blob(reader, 1);
        try
        {
            var xs = MemoryMarshal.Cast<byte, long>(xBytes.Span);
            var values = MemoryMarshal.Cast<byte, double>(valueBytes.Span);
            var first = reader.GetInt64(2);
            for (var i = 0; i < values.Length; i++)
            {
                var x = axis == Axis.Time ? xs[i] * 1e-6 : xs.IsEmpty ? first + i : xs[i];
                visit(x, values[i]);
            }
        }
        finally
        {
            xBytes.Return();
            valueBytes.Return();
        }
    }

    /// <summary>A blob column read into a rented buffer (empty for NULL or an empty blob).</summary>
    private static PooledBytes Blob(SqliteDataReader reader, int ordinal)
    {
        if (reader.IsDBNull(ordinal))
        {
            return default;
        }
        var length = (int)reader.GetBytes(ordinal, 0, null, 0, 0);
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(length);
        reader.GetBytes(ordinal, 0, buffer, 0, length);
        return new PooledBytes(buffer, length);
    }

    private readonly record struct PooledBytes(byte[]? Buffer, int Length)
    {
        public ReadOnlySpan<byte> Span => Buffer is null ? default : Buffer.AsSpan(0, Length);

        public void Return()
        {
            if (Buffer is not null)
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(Buffer);
            }
        }
    }

    /// <summary>The buckets: each keeps its lowest and highest point.</summary>
    private sealed class Grid(double from, double to, int count)
    {
        private readonly double[] _loX = new double[count], _loY = new double[count], _hiX = new double[count], _hiY = new double[count];
        private readonly bool[] _any = new bool[count];

        public double Width { get; } = to > from ? (to - from) / count : 1;

        public void Add(double x, double y)
        {
            var i = (int)Math.Clamp(Math.Floor((x - from) / Width), 0, count - 1);
            if (!_any[i])
            {
                _any[i] = true;
                (_loX[i], _loY[i], _hiX[i], _hiY[i]) = (x, y, x, y);
                return;
            }
            if (y < _loY[i] || (y == _loY[i] && x < _loX[i]))
            {
                (_loX[i], _loY[i]) = (x, y);
            }
            if (y > _hiY[i] || (y == _hiY[i] && x > _hiX[i]))
            {
                (_hiX[i], _hiY[i]) = (x, y);
            }
        }

        public (double[] X, double[] Y) Points()
        {
            var xs = new List<double>(2 * count);
            var ys = new List<double>(2 * count);
            for (var i = 0; i < count; i++)
            {
                if (!_any[i])
                {
                    continue;
                }
                var loFirst = _loX[i] <= _hiX[i];
                var (x1, y1, x2, y2) = loFirst ? (_loX[i], _loY[i], _hiX[i], _hiY[i]) : (_hiX[i], _hiY[i], _loX[i], _loY[i]);
                Append(x1, y1);
                if (x2 != x1 || y2 != y1)
                {
                    Append(x2, y2);
                }
            }
            return (xs.ToArray(), ys.ToArray());

            void Append(double x, double y)
            {
                // uPlot needs x ascending: points of one x keep the first.
                if (xs.Count > 0 && x < xs[^1])
                {
                    x = xs[^1];
                }
                xs.Add(x);
                ys.Add(y);
            }
        }
    }
}
