namespace MlModels.Core.Evaluation.Plots;

/// <summary>matplotlib's colours: the "tab10" cycle for series and the "Blues" colour map for heatmaps.</summary>
internal static class Palette
{
    public static readonly Rgb Axes = Rgb.Black;
    public static readonly Rgb Text = Rgb.Black;

    /// <summary>The reference line's grey.</summary>
    public static readonly Rgb Reference = new(128, 128, 128);

    /// <summary>The legend's frame: matplotlib's legend.edgecolor "0.8".</summary>
    public static readonly Rgb LegendEdge = new(204, 204, 204);

    private static readonly Rgb[] Tab10 =
    [
        Rgb.FromHex(0x1f77b4), Rgb.FromHex(0xff7f0e), Rgb.FromHex(0x2ca02c), Rgb.FromHex(0xd62728), Rgb.FromHex(0x9467bd),
        Rgb.FromHex(0x8c564b), Rgb.FromHex(0xe377c2), Rgb.FromHex(0x7f7f7f), Rgb.FromHex(0xbcbd22), Rgb.FromHex(0x17becf),
    ];

    /// <summary>The ColorBrewer "Blues" stops matplotlib interpolates between, evenly spaced from 0 to 1.</summary>
    private static readonly Rgb[] Blues =
    [
        Rgb.FromHex(0xf7fbff), Rgb.FromHex(0xdeebf7), Rgb.FromHex(0xc6dbef), Rgb.FromHex(0x9ecae1), Rgb.FromHex(0x6baed6),
        Rgb.FromHex(0x4292c6), Rgb.FromHex(0x2171b5), Rgb.FromHex(0x08519c), Rgb.FromHex(0x08306b),
    ];

    /// <summary>The colour of the series at this index: tab10, over again from the 11th.</summary>
    public static Rgb Series(int index) => Tab10[index % Tab10.Length];

    /// <summary>"Blues" at t from 0 (near white) to 1 (dark blue); t outside is clamped.</summary>
    public static Rgb BluesAt(double t)
    {
        double position = Math.Clamp(double.IsNaN(t) ? 0 : t, 0, 1) * (Blues.Length - 1);
        int i = Math.Min((int)position, Blues.Length - 2);
        return Rgb.Lerp(Blues[i], Blues[i + 1], position - i);
    }
}
