namespace MlModels.Core.Evaluation.Plots;

/// <summary>Whole pixels from Left to Right and Top to Bottom, both included.</summary>
internal readonly record struct PixelRect(int Left, int Top, int Right, int Bottom)
{
    public int Width => Right - Left + 1;

    public int Height => Bottom - Top + 1;
}

/// <summary>
/// A drawn chart and where its data went: the axes' frame (the pixels its lines are drawn on) and the data ranges, the
/// minimum at the centre of the frame's left (bottom) line, the maximum at the centre of its right (top) line.
/// </summary>
internal sealed record RenderedChart(Raster Image, PixelRect Frame, double XMin, double XMax, double YMin, double YMax)
{
    /// <summary>Where the data point is drawn, in pixels (continuous: pixel (i, j) covers [i, i+1) × [j, j+1)).</summary>
    public (double X, double Y) ToPixel(double x, double y) =>
        (Frame.Left + 0.5 + ((x - XMin) / (XMax - XMin) * (Frame.Right - Frame.Left)),
         Frame.Bottom + 0.5 - ((y - YMin) / (YMax - YMin) * (Frame.Bottom - Frame.Top)));
}

/// <summary>Text placed while the shapes are drawn, and written after the supersampled canvas is resolved: crisp glyphs.</summary>
internal sealed class TextLayer
{
    private readonly List<(string Text, int X, int Y, int Scale, Rgb Color, bool Rotated)> _items = [];

    /// <summary>Text with its cell's top-left corner at (x, y).</summary>
    public void Add(string text, int x, int y, int scale = 1, Rgb? color = null) =>
        _items.Add((text, x, y, scale, color ?? Palette.Text, false));

    /// <summary>Text centred on x, or as near as keeps it within the bounds given.</summary>
    public void Centred(string text, double x, int y, int scale = 1, Rgb? color = null, (int Left, int Right)? within = null)
    {
        int width = BitmapFont.Measure(text, scale);
        double left = x - (width / 2.0);
        if (within is var (min, max)) left = Math.Clamp(left, min, Math.Max(min, max - width));
        Add(text, (int)Math.Round(left), y, scale, color);
    }

    /// <summary>Text reading upwards, centred on y or as near as keeps it within the bounds given, the tops of its letters at x.</summary>
    public void Upwards(string text, int x, double y, (int Top, int Bottom)? within = null)
    {
        int length = BitmapFont.Measure(text, 1);
        double start = y + (length / 2.0);
        if (within is var (min, max)) start = Math.Clamp(start, Math.Min(min + length, max), max);
        _items.Add((text, x, (int)Math.Round(start), 1, Palette.Text, true));
    }

    /// <summary>A line's cell top that puts the middle of its capitals on y.</summary>
    public static int TopFor(double y, int scale = 1) => (int)Math.Round(y - (6.5 * scale));

    public void DrawOn(Raster image)
    {
        foreach (var (text, x, y, scale, color, rotated) in _items) BitmapFont.Draw(image, text, x, y, scale, color, rotated);
    }
}

/// <summary>The size checks both chart kinds share.</summary>
internal static class Limits
{
    public const int MinWidth = 160, MinHeight = 120, MaxSide = 4096;

    public static void CheckSize(int width, int height)
    {
        if (width is < MinWidth or > MaxSide)
            throw new ArgumentOutOfRangeException(nameof(width), width, $"A chart's width must be from {MinWidth} to {MaxSide} pixels.");
        if (height is < MinHeight or > MaxSide)
            throw new ArgumentOutOfRangeException(nameof(height), height, $"A chart's height must be from {MinHeight} to {MaxSide} pixels.");
    }
}
