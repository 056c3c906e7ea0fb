namespace MlModels.Core.Evaluation.Plots;

/// <summary>An opaque 8-bit sRGB colour.</summary>
internal readonly record struct Rgb(byte R, byte G, byte B)
{
    public static readonly Rgb White = new(255, 255, 255);
    public static readonly Rgb Black = new(0, 0, 0);

    public static Rgb FromHex(int rgb) => new((byte)(rgb >> 16), (byte)(rgb >> 8), (byte)rgb);

    /// <summary>Relative luminance from 0 (black) to 1 (white), near enough for choosing a text colour.</summary>
    public double Luminance => ((0.2126 * R) + (0.7152 * G) + (0.0722 * B)) / 255;

    public static Rgb Lerp(Rgb a, Rgb b, double t) =>
        new(Mix(a.R, b.R, t), Mix(a.G, b.G, t), Mix(a.B, b.B, t));

    private static byte Mix(byte a, byte b, double t) => (byte)Math.Round(a + ((b - a) * t));
}

/// <summary>RGB pixels, 3 bytes each, row after row from the top; starts white.</summary>
internal sealed class Raster
{
    public Raster(int width, int height)
    {
        Width = width;
        Height = height;
        Pixels = new byte[checked(width * height * 3)];
        Pixels.AsSpan().Fill(255);
    }

    public int Width { get; }

    public int Height { get; }

    public byte[] Pixels { get; }

    public void SetPixel(int x, int y, Rgb c)
    {
        if ((uint)x >= (uint)Width || (uint)y >= (uint)Height) return;
        int i = ((y * Width) + x) * 3;
        Pixels[i] = c.R;
        Pixels[i + 1] = c.G;
        Pixels[i + 2] = c.B;
    }

    /// <summary>Pixels x0 (inclusive) to x1 (exclusive) of row y, whatever of them lies in the image.</summary>
    public void FillSpan(int y, int x0, int x1, Rgb c)
    {
        if ((uint)y >= (uint)Height) return;
        x0 = Math.Max(x0, 0);
        x1 = Math.Min(x1, Width);
        if (x0 >= x1) return;
        var row = Pixels.AsSpan(((y * Width) + x0) * 3, (x1 - x0) * 3);
        if (c.R == c.G && c.G == c.B)
        {
            row.Fill(c.R);
            return;
        }
        for (int i = 0; i < row.Length; i += 3)
        {
            row[i] = c.R;
            row[i + 1] = c.G;
            row[i + 2] = c.B;
        }
    }

    /// <summary>This image shrunk by a whole factor, each pixel the mean of its factor × factor block.</summary>
    public Raster Downsample(int factor)
    {
        var result = new Raster(Width / factor, Height / factor);
        int area = factor * factor;
        var sums = new int[result.Width * 3];
        for (int oy = 0; oy < result.Height; oy++)
        {
            Array.Clear(sums);
            for (int dy = 0; dy < factor; dy++)
            {
                var row = Pixels.AsSpan(((oy * factor) + dy) * Width * 3, result.Width * factor * 3);
                for (int ox = 0, i = 0; ox < result.Width; ox++)
                {
                    for (int dx = 0; dx < factor; dx++, i += 3)
                    {
                        sums[ox * 3] += row[i];
                        sums[(ox * 3) + 1] += row[i + 1];
                        sums[(ox * 3) + 2] += row[i + 2];
                    }
                }
            }
            var target = result.Pixels.AsSpan(oy * result.Width * 3, result.Width * 3);
            for (int i = 0; i < target.Length; i++) target[i] = (byte)((sums[i] + (area / 2)) / area);
        }
        return result;
    }
}
