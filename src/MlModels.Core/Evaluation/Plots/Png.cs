using System.Buffers.Binary;
using System.IO.Compression;

namespace MlModels.Core.Evaluation.Plots;

/// <summary>
/// PNG files (ISO/IEC 15948) of an RGB image: 8 bits per channel, colour type 2, no interlacing; IHDR, pHYs at 175 dpi
/// (so that the default 1050 × 700 chart is 6 × 4 inches, as matplotlib saves it), IDAT chunks of the zlib stream,
/// IEND. Each row's filter is the one of the five whose output has the smallest sum of absolute values, as libpng
/// chooses.
/// </summary>
internal static class PngEncoder
{
    /// <summary>The most bytes an IDAT chunk carries; the stream goes on in the next.</summary>
    public const int IdatSize = 1 << 16;

    private const int BytesPerPixel = 3;

    /// <summary>175 dots per inch in dots per metre, pHYs' unit.</summary>
    private const int DotsPerMetre = 6890;

    private static ReadOnlySpan<byte> Signature => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>The image as a PNG file; <paramref name="filter"/> 0 to 4 uses that filter for every row (for tests).</summary>
    public static byte[] Encode(Raster image, int? filter = null)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (filter is < 0 or > 4) throw new ArgumentOutOfRangeException(nameof(filter), filter, "PNG's filter types are 0 to 4.");
        var data = Compress(image, filter);
        using var file = new MemoryStream(data.Length + 1024);
        file.Write(Signature);

        Span<byte> header = stackalloc byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, image.Width);
        BinaryPrimitives.WriteInt32BigEndian(header[4..], image.Height);
        header[8] = 8;  // bits per channel
        header[9] = 2;  // colour type: RGB
        header[10] = 0; // compression: deflate
        header[11] = 0; // filter method: adaptive, five types
        header[12] = 0; // no interlacing
        WriteChunk(file, "IHDR"u8, header);

        Span<byte> physical = stackalloc byte[9];
        BinaryPrimitives.WriteInt32BigEndian(physical, DotsPerMetre);
        BinaryPrimitives.WriteInt32BigEndian(physical[4..], DotsPerMetre);
        physical[8] = 1; // unit: metre
        WriteChunk(file, "pHYs"u8, physical);

        for (int offset = 0; offset < data.Length; offset += IdatSize)
            WriteChunk(file, "IDAT"u8, data.AsSpan(offset, Math.Min(IdatSize, data.Length - offset)));
        WriteChunk(file, "IEND"u8, []);
        return file.ToArray();
    }

    /// <summary>Length, type, data and the CRC-32 of type and data.</summary>
    private static void WriteChunk(Stream file, ReadOnlySpan<byte> type, ReadOnlySpan<byte> data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        file.Write(word);
        file.Write(type);
        file.Write(data);
        BinaryPrimitives.WriteUInt32BigEndian(word, Crc32.Append(Crc32.Append(Crc32.Start, type), data) ^ Crc32.Start);
        file.Write(word);
    }

    /// <summary>The zlib stream of the filtered rows, each led by its filter type.</summary>
    private static byte[] Compress(Raster image, int? filter)
    {
        int stride = image.Width * BytesPerPixel;
        var zeros = new byte[stride];
        var candidates = new byte[5][];
        for (int f = 0; f < 5; f++) candidates[f] = new byte[stride + 1];
        using var buffer = new MemoryStream();
        using (var zlib = new ZLibStream(buffer, CompressionLevel.Optimal, leaveOpen: true))
        {
            for (int y = 0; y < image.Height; y++)
            {
                var row = image.Pixels.AsSpan(y * stride, stride);
                var above = y == 0 ? zeros : image.Pixels.AsSpan((y - 1) * stride, stride);
                int chosen = filter ?? -1;
                if (chosen >= 0)
                {
                    Filter(chosen, row, above, candidates[chosen]);
                }
                else
                {
                    long best = long.MaxValue;
                    for (int f = 0; f < 5; f++)
                    {
                        long cost = Filter(f, row, above, candidates[f]);
                        if (cost < best) (best, chosen) = (cost, f);
                    }
                }
                zlib.Write(candidates[chosen]);
            }
        }
        return buffer.ToArray();
    }

    /// <summary>
    /// Writes the filter type and the filtered row into <paramref name="output"/>; returns the sum of the output bytes
    /// read as signed numbers' absolute values, the heuristic by which the filter is chosen.
    /// </summary>
    private static long Filter(int type, ReadOnlySpan<byte> row, ReadOnlySpan<byte> above, Span<byte> output)
    {
        output[0] = (byte)type;
        var target = output[1..];
        long cost = 0;
        for (int i = 0; i < row.Length; i++)
        {
            int left = i >= BytesPerPixel ? row[i - BytesPerPixel] : 0;
            int up = above[i];
            int upLeft = i >= BytesPerPixel ? above[i - BytesPerPixel] : 0;
            int predicted = type switch
            {
                0 => 0,
                1 => left,
                2 => up,
                3 => (left + up) >> 1,
                _ => Paeth(left, up, upLeft),
            };
            byte value = (byte)(row[i] - predicted);
            target[i] = value;
            cost += Math.Abs((int)(sbyte)value);
        }
        return cost;
    }

    /// <summary>The neighbour nearest to left + up − upLeft; ties go to left, then up (the PNG specification's order).</summary>
    private static int Paeth(int left, int up, int upLeft)
    {
        int p = left + up - upLeft;
        int pa = Math.Abs(p - left), pb = Math.Abs(p - up), pc = Math.Abs(p - upLeft);
        if (pa <= pb && pa <= pc) return left;
        return pb <= pc ? up : upLeft;
    }
}

/// <summary>
/// CRC-32 as PNG (and zlib's crc32) computes it: polynomial 0xEDB88320 (reflected), register started at all ones, the
/// result inverted. Table-driven, a byte at a time.
/// </summary>
internal static class Crc32
{
    /// <summary>The register's start, and what the result is XORed with.</summary>
    public const uint Start = 0xFFFFFFFF;

    private static readonly uint[] Table = BuildTable();

    /// <summary>The register after the bytes; start from <see cref="Start"/> and XOR the end with it.</summary>
    public static uint Append(uint crc, ReadOnlySpan<byte> bytes)
    {
        foreach (byte b in bytes) crc = Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        return crc;
    }

    /// <summary>The CRC-32 of the bytes.</summary>
    public static uint Compute(ReadOnlySpan<byte> bytes) => Append(Start, bytes) ^ Start;

    private static uint[] BuildTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320 ^ (c >> 1) : c >> 1;
            table[n] = c;
        }
        return table;
    }
}
