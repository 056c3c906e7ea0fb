using System.Buffers.Binary;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using MlModels.Core.Evaluation.Plots;

namespace MlModels.Core.Tests.Evaluation.Plots;

[Trait("Category", "Fast")]
public class PngEncoderTests
{
    private static LineChart Roc(int width = 1050, int height = 700) => new()
    {
        Title = "ROC curve", XLabel = "False Positive Rate", YLabel = "True Positive Rate",
        Series = [new Series("test (AUC=0.87)", [0, 0, 0.1, 0.3, 0.6, 1], [0, 0.4, 0.7, 0.86, 0.95, 1])],
        Reference = (0, 0, 1, 1), XRange = (-0.05, 1.05), YRange = (-0.05, 1.05), Width = width, Height = height,
    };

    [Fact]
    public void Png_StartsWithTheSignatureAndAnRgb8Header()
    {
        var png = Charts.Png(Roc());
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }, png[..8]);
        Assert.Equal(13, BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(8)));
        Assert.Equal("IHDR", Encoding.ASCII.GetString(png, 12, 4));
        var image = PngReader.Read(png);
        Assert.Equal((1050, 700, 8, 2), (image.Width, image.Height, image.BitDepth, image.ColorType));
        Assert.Equal((8, 2, 0, 0, 0), (png[24], png[25], png[26], png[27], png[28])); // depth, RGB, deflate, filters, no interlace
        var small = PngReader.Read(Charts.Png(Roc(320, 200)));
        Assert.Equal((320, 200), (small.Width, small.Height));
    }

    [Fact]
    public void Png_EveryChunksCrcIsValid_AndTheChunksComeInOrder()
    {
        var image = PngReader.Read(Charts.Png(Roc())); // throws on a bad CRC
        Assert.Equal(["IHDR", "pHYs"], image.Chunks.Take(2).Select(c => c.Type));
        Assert.Equal("IEND", image.Chunks[^1].Type);
        Assert.True(image.Chunks.Count(c => c.Type == "IDAT") >= 1);
        Assert.All(image.Chunks.Where(c => c.Type == "IDAT"), c => Assert.InRange(c.Data.Length, 1, PngEncoder.IdatSize));
        Assert.All(image.Chunks, c => Assert.Equal(PngReader.BitwiseCrc32([.. Encoding.ASCII.GetBytes(c.Type), .. c.Data]), c.Crc));
        var physical = image.Chunks[1].Data;
        Assert.Equal(6890, BinaryPrimitives.ReadInt32BigEndian(physical)); // 175 dpi
        Assert.Equal(6890, BinaryPrimitives.ReadInt32BigEndian(physical.AsSpan(4)));
        Assert.Equal(1, physical[8]);
    }

    [Fact]
    public void Reader_RejectsACorruptedChunk_SoTheCrcCheckIsReal()
    {
        var png = Charts.Png(Roc(320, 200));
        int idat = IndexOf(png, "IDAT"u8);
        var corrupted = (byte[])png.Clone();
        corrupted[idat + 10] ^= 0x01;
        Assert.Contains("CRC", Assert.Throws<InvalidDataException>(() => PngReader.Read(corrupted)).Message);
        var badCrc = (byte[])png.Clone();
        badCrc[8 + 8 + 13] ^= 0x80; // the IHDR's CRC
        Assert.Throws<InvalidDataException>(() => PngReader.Read(badCrc));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void EachFilterType_DecodesToTheSamePixels(int filter)
    {
        // A chart, and noise: every tie in Paeth's predictor, every carry in Average's, wrap-arounds in all.
        var noise = new Raster(61, 47);
        new Random(filter).NextBytes(noise.Pixels);
        foreach (var image in new[] { LineChartRenderer.Render(Roc(400, 300)).Image, noise })
        {
            var decoded = PngReader.Read(PngEncoder.Encode(image, filter));
            Assert.All(decoded.Filters, f => Assert.Equal(filter, f));
            Assert.Equal(image.Pixels, decoded.Pixels);
        }
    }

    [Fact]
    public void AdaptiveFiltering_ChoosesPerRow_AndDecodesToTheRenderedPixels()
    {
        var rendered = LineChartRenderer.Render(Roc());
        var png = PngEncoder.Encode(rendered.Image);
        Assert.Equal(png, Charts.Png(Roc()));
        var decoded = PngReader.Read(png);
        Assert.Equal(rendered.Image.Pixels, decoded.Pixels);
        Assert.True(decoded.Filters.Distinct().Count() >= 2, "one filter type for every row: " + string.Join(",", decoded.Filters.Distinct()));
        Assert.True(png.Length < rendered.Image.Pixels.Length / 20, $"{png.Length} bytes for {rendered.Image.Pixels.Length} of pixels");
    }

    [Fact]
    public void Crc32_MatchesTheCheckValueAndTheBitwiseForm()
    {
        Assert.Equal(0xCBF43926u, Crc32.Compute("123456789"u8));
        Assert.Equal(0u, Crc32.Compute([]));
        var bytes = new byte[1000];
        new Random(7).NextBytes(bytes);
        Assert.Equal(PngReader.BitwiseCrc32(bytes), Crc32.Compute(bytes));
    }

    /// <summary>Python's zlib and struct (always in Debian's python3) read the files: CRCs, header, inflate, unfilter.</summary>
    [SkippableFact]
    public void AnIndependentDecoder_ReadsThePixels()
    {
        Prerequisites.Require(File.Exists(Prerequisites.DebianPython), "Debian's python3");
        var dir = TestPaths.NewTempDir();
        var rendered = LineChartRenderer.Render(Roc(360, 240));
        var heat = HeatmapRenderer.Render(new HeatmapChart
        {
            Title = "Confusion matrix", RowLabels = ["a", "b"], ColumnLabels = ["a", "b"], Values = new double[,] { { 5, 1 }, { 2, 7 } },
            Width = 300, Height = 200,
        });
        var noise = new Raster(53, 41);
        new Random(11).NextBytes(noise.Pixels);
        var files = new List<(string Path, Raster Image)>();
        var cases = new (Raster, int?)[] { (rendered.Image, null), (heat.Image, null), (noise, null) }
            .Concat(Enumerable.Range(0, 5).SelectMany(f => new (Raster, int?)[] { (rendered.Image, f), (noise, f) }));
        foreach (var (image, filter) in cases)
        {
            var path = Path.Combine(dir, $"{files.Count}.png");
            File.WriteAllBytes(path, PngEncoder.Encode(image, filter));
            files.Add((path, image));
        }
        var psi = new ProcessStartInfo(Prerequisites.DebianPython) { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(PythonDecoder);
        foreach (var (path, _) in files) psi.ArgumentList.Add(path);
        using var python = Process.Start(psi)!;
        var output = python.StandardOutput.ReadToEndAsync();
        var errors = python.StandardError.ReadToEndAsync();
        Assert.True(python.WaitForExit(120_000), "python3 took more than 2 minutes");
        Assert.True(python.ExitCode == 0, errors.Result);
        var lines = output.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(files.Count, lines.Length);
        for (int i = 0; i < files.Count; i++)
        {
            var image = files[i].Image;
            Assert.Equal($"{image.Width} {image.Height} {Convert.ToHexString(SHA256.HashData(image.Pixels)).ToLowerInvariant()}", lines[i].Trim());
        }
    }

    private const string PythonDecoder = """
        import hashlib, struct, sys, zlib
        for path in sys.argv[1:]:
            data = open(path, 'rb').read()
            assert data[:8] == b'\x89PNG\r\n\x1a\n', 'signature'
            pos, chunks = 8, []
            while pos < len(data):
                length, kind = struct.unpack('>I4s', data[pos:pos + 8])
                body = data[pos + 8:pos + 8 + length]
                crc, = struct.unpack('>I', data[pos + 8 + length:pos + 12 + length])
                assert zlib.crc32(kind + body) & 0xffffffff == crc, 'crc of ' + kind.decode()
                chunks.append((kind, body))
                pos += 12 + length
            assert chunks[0][0] == b'IHDR' and chunks[-1][0] == b'IEND'
            width, height, depth, colour, compression, filtering, interlace = struct.unpack('>IIBBBBB', chunks[0][1])
            assert (depth, colour, compression, filtering, interlace) == (8, 2, 0, 0, 0)
            raw = zlib.decompress(b''.join(body for kind, body in chunks if kind == b'IDAT'))
            stride = width * 3
            assert len(raw) == height * (stride + 1)
            out, prev = bytearray(), bytearray(stride)
            for y in range(height):
                f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
                for i in range(stride):
                    a = line[i - 3] if i >= 3 else 0
                    b = prev[i]
                    c = prev[i - 3] if i >= 3 else 0
                    if f == 0: p = 0
                    elif f == 1: p = a
                    elif f == 2: p = b
                    elif f == 3: p = (a + b) // 2
                    elif f == 4:
                        q = a + b - c
                        pa, pb, pc = abs(q - a), abs(q - b), abs(q - c)
                        p = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                    else: raise ValueError('filter %d' % f)
                    line[i] = (line[i] + p) & 0xff
                out += line
                prev = line
            print(width, height, hashlib.sha256(bytes(out)).hexdigest())
        """;

    private static int IndexOf(byte[] haystack, ReadOnlySpan<byte> needle) => haystack.AsSpan().IndexOf(needle);
}
