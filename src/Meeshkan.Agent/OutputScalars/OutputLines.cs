namespace Meeshkan.Agent.OutputScalars;

/// <summary>
/// A job's output, fed as it is read, cut into lines at <c>\n</c> and <c>\r</c> (tqdm redraws with <c>\r</c>) and
/// handed to <see cref="OutputParser"/>. A line past <see cref="MaxLineBytes"/> is parsed on its first bytes only, so
/// memory stays flat whatever the job prints; a whole line inside what was fed is parsed where it lies (no copy).
/// </summary>
public sealed class OutputLines(OutputParser parser, long start = 0)
{
    public const int MaxLineBytes = 64 * 1024;

    private readonly byte[] _line = new byte[MaxLineBytes];
    private int _lineLength;
    // Bytes fed of the line not ended yet (more than _lineLength when it is longer than MaxLineBytes).
    private long _partial;

    /// <summary>The offset just after the last whole line (from <c>start</c>): where reading starts again later.</summary>
    public long Consumed { get; private set; } = start;

    /// <summary>Parses every line that ends in <paramref name="data"/> into <paramref name="found"/>; keeps the unfinished one.</summary>
    public void Feed(ReadOnlySpan<byte> data, List<OutputScalar> found)
    {
        while (data.Length > 0)
        {
            var end = data.IndexOfAny((byte)'\n', (byte)'\r');
            var piece = end < 0 ? data : data[..end];
            if (_partial == 0 && end >= 0)
            {
                parser.Parse(piece.Length > MaxLineBytes ? piece[..MaxLineBytes] : piece, found);
            }
            else
            {
                var kept = Math.Min(MaxLineBytes - _lineLength, piece.Length);
                piece[..kept].CopyTo(_line.AsSpan(_lineLength));
                _lineLength += kept;
                _partial += piece.Length;
                if (end < 0)
                {
                    return;
                }
                parser.Parse(_line.AsSpan(0, _lineLength), found);
                _lineLength = 0;
                Consumed += _partial - piece.Length; // the line's bytes fed before; this piece is counted below
                _partial = 0;
            }
            Consumed += end + 1;
            data = data[(end + 1)..];
        }
    }

    /// <summary>The output has ended: a last line without a newline is a line too.</summary>
    public void End(List<OutputScalar> found)
    {
        if (_partial > 0)
        {
            parser.Parse(_line.AsSpan(0, _lineLength), found);
            Consumed += _partial;
            _lineLength = 0;
            _partial = 0;
        }
    }
}
