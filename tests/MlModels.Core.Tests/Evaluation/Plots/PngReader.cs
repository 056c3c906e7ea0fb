using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace MlModels.Core.Tests.Evaluation.Plots;

/// <summary>One chunk of a PNG file as read: its type, its data and the CRC it carried.</summary>
internal sealed record PngChunk(string Type, byte[] Data, uint Crc);

/// <summary>A decoded 8-bit RGB PNG: its header fields, chunks, each row's filter type and the pixels (3 bytes each).</summary>
internal sealed record PngImage(int Width, int Height, int BitDepth, int ColorType, IReadOnlyList<PngChunk> Chunks, byte[] Filters, byte[] Pixels)
{
    public (byte R, byte G, byte B) At(int x, int y)
    {
        int i = ((y * Width) + x) * 3;
        return (Pixels[i], Pixels[i + 1], Pixels[i + 2]);
    }

    public bool IsWhite(int x, int y) => At(x, y) is (255, 255, 255);
}

/// <summary>
/// A PNG reader written for the tests, apart from the encoder: it checks the signature, every chunk's CRC (computed bit
/// by bit, not with the encoder's table), that IHDR comes first and IEND last, inflates the IDAT chunks with ZLibStream
/// and undoes filter types 0 to 4. It reads what the charts write: 8 bits, colour type 2, no interlacing.
/// </summary>
internal static class PngReader
{
    private static readonly byte[] Signature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    public static PngImage Read(byte[] file)
    {
        if (file.Length < 8 || !file.AsSpan(0, 8).SequenceEqual(Signature)) throw new InvalidDataException("Not a PNG signature.");
        var chunks = new List<PngChunk>();
        int at = 8;
        while (at < file.Length)
        {
            if (at + 12 > file.Length) throw new InvalidDataException($"A chunk is cut short at byte {at}.");
            int length = BinaryPrimitives.ReadInt32BigEndian(file.AsSpan(at));
            if (length < 0 || at + 12 + length > file.Length) throw new InvalidDataException($"A chunk's length {length} runs past the file.");
            var typeAndData = file.AsSpan(at + 4, 4 + length);
            uint crc = BinaryPrimitives.ReadUInt32BigEndian(file.AsSpan(at + 8 + length));
            string type = Encoding.ASCII.GetString(typeAndData[..4]);
            uint computed = BitwiseCrc32(typeAndData);
            if (crc != computed) throw new InvalidDataException($"Chunk {type} at byte {at}: CRC {crc:x8}, computed {computed:x8}.");
            chunks.Add(new PngChunk(type, typeAndData[4..].ToArray(), crc));
            at += 12 + length;
        }
        if (chunks.Count == 0 || chunks[0].Type != "IHDR") throw new InvalidDataException("IHDR is not the first chunk.");
        if (chunks[^1].Type != "IEND" || chunks.Count(c => c.Type == "IEND") != 1) throw new InvalidDataException("IEND is not the last chunk.");
        var header = chunks[0].Data;
        if (header.Length != 13) throw new InvalidDataException("IHDR is not 13 bytes.");
        int width = BinaryPrimitives.ReadInt32BigEndian(header), height = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(4));
        int bitDepth = header[8], colorType = header[9];
        if (bitDepth != 8 || colorType != 2 || header[10] != 0 || header[11] != 0 || header[12] != 0)
            throw new InvalidDataException($"Not 8-bit RGB without interlacing: {Convert.ToHexString(header.AsSpan(8))}.");

        using var compressed = new MemoryStream();
        foreach (var c in chunks.Where(c => c.Type == "IDAT")) compressed.Write(c.Data);
        compressed.Position = 0;
        using var inflated = new MemoryStream();
        using (var zlib = new ZLibStream(compressed, CompressionMode.Decompress)) zlib.CopyTo(inflated);
        var raw = inflated.ToArray();
        int stride = width * 3;
        if (raw.Length != height * (stride + 1)) throw new InvalidDataException($"IDAT inflates to {raw.Length} bytes, not {height * (stride + 1)}.");

        var pixels = new byte[height * stride];
        var filters = new byte[height];
        for (int y = 0; y < height; y++)
        {
            int filter = raw[y * (stride + 1)];
            filters[y] = (byte)filter;
            var source = raw.AsSpan((y * (stride + 1)) + 1, stride);
            var row = pixels.AsSpan(y * stride, stride);
            var above = y == 0 ? new byte[stride] : pixels.AsSpan((y - 1) * stride, stride);
            for (int i = 0; i < stride; i++)
            {
                int a = i >= 3 ? row[i - 3] : 0, b = above[i], c = i >= 3 ? above[i - 3] : 0;
                int predictor = filter switch
                {
                    0 => 0,
                    1 => a,
                    2 => b,
                    3 => (a + b) / 2,
                    4 => Paeth(a, b, c),
                    _ => throw new InvalidDataException($"Row {y} has filter type {filter}."),
                };
                row[i] = (byte)(source[i] + predictor);
            }
        }
        return new PngImage(width, height, bitDepth, colorType, chunks, filters, pixels);
    }

    private static int Paeth(int a, int b, int c)
    {
        int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }

    /// <summary>CRC-32 (ISO 3309, as PNG uses it), one bit at a time.</summary>
    public static uint BitwiseCrc32(ReadOnlySpan<byte> bytes)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in bytes)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1)));
        }
        return ~crc;
    }
}
