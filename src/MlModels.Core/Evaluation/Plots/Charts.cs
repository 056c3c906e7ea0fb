namespace MlModels.Core.Evaluation.Plots;

/// <summary>
/// Evaluation charts as PNG files, drawn by Core itself (no native graphics library): a small supersampling rasteriser,
/// an embedded bitmap font and a PNG encoder over the BCL's zlib.
/// </summary>
public static class Charts
{
    /// <summary>The chart as a PNG file's bytes (8-bit RGB).</summary>
    /// <exception cref="ArgumentException">A series whose X and Y differ in length; a range not finite or reversed.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A size outside 160–4096 × 120–4096 pixels.</exception>
    public static byte[] Png(LineChart chart) => PngEncoder.Encode(LineChartRenderer.Render(chart).Image);

    /// <summary>The heatmap as a PNG file's bytes (8-bit RGB).</summary>
    /// <exception cref="ArgumentException">Labels that do not match the matrix's rows and columns.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A size outside 160–4096 × 120–4096 pixels.</exception>
    public static byte[] Png(HeatmapChart chart) => PngEncoder.Encode(HeatmapRenderer.Render(chart).Image);

    /// <summary>
    /// Writes the chart's PNG file atomically: into a temporary file in the same folder (created if missing), then moved
    /// over the path, so that a reader sees the old file or the new one, never part of one. A relative path is taken
    /// from the process's current directory.
    /// </summary>
    public static void Save(LineChart chart, string path) => Write(Png(chart), path);

    /// <inheritdoc cref="Save(LineChart, string)"/>
    public static void Save(HeatmapChart chart, string path) => Write(Png(chart), path);

    private static void Write(byte[] png, string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var full = Path.GetFullPath(path);
        var folder = Path.GetDirectoryName(full) ?? throw new ArgumentException($"'{path}' names no file.", nameof(path));
        Directory.CreateDirectory(folder);
        var temporary = Path.Combine(folder, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            File.WriteAllBytes(temporary, png);
            File.Move(temporary, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
    }
}
