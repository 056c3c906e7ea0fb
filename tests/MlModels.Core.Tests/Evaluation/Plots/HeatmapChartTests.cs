using MlModels.Core.Evaluation.Plots;

namespace MlModels.Core.Tests.Evaluation.Plots;

[Trait("Category", "Fast")]
public class HeatmapChartTests
{
    private static HeatmapChart Matrix(double[,] values, string[]? labels = null)
    {
        labels ??= [.. Enumerable.Range(0, values.GetLength(0)).Select(i => $"class {i}")];
        return new HeatmapChart { Title = "Normalized confusion matrix", RowLabels = labels, ColumnLabels = labels, Values = values };
    }

    private static (RenderedHeatmap Layout, PngImage Image) Draw(HeatmapChart chart) =>
        (HeatmapRenderer.Render(chart), PngReader.Read(Charts.Png(chart)));

    /// <summary>A cell's colour, a few pixels in from its top-left corner, clear of the text in its middle.</summary>
    private static (byte R, byte G, byte B) CellColour(RenderedHeatmap layout, PngImage image, int row, int column)
    {
        var (x, y) = layout.CellCentre(row, column);
        int inset = (int)(layout.Cell / 2) - 3;
        return image.At((int)x - inset, (int)y - inset);
    }

    private static double Luminance((byte R, byte G, byte B) p) => (0.2126 * p.R) + (0.7152 * p.G) + (0.0722 * p.B);

    [Fact]
    public void TheDarkestCell_IsTheLargestValue_AndTheLightestTheSmallest()
    {
        var values = new double[,] { { 3, 10, 1 }, { 7, 20, 5 }, { 50, 2, 12 } };
        var (layout, image) = Draw(Matrix(values));
        var cells = (from i in Enumerable.Range(0, 3)
                     from j in Enumerable.Range(0, 3)
                     select (i, j, Luminance(CellColour(layout, image, i, j)))).ToList();
        Assert.Equal((2, 0), cells.MinBy(c => c.Item3) is var (r, c, _) ? (r, c) : default);
        Assert.Equal((0, 2), cells.MaxBy(c => c.Item3) is var (r2, c2, _) ? (r2, c2) : default);
        Assert.Equal((0x08, 0x30, 0x6b), CellColour(layout, image, 2, 0)); // "Blues" at 1
        Assert.Equal((0xf7, 0xfb, 0xff), CellColour(layout, image, 0, 2)); // "Blues" at 0
        // Darker as the value grows, cell after cell.
        var byValue = cells.OrderBy(c => values[c.i, c.j]).Select(c => c.Item3).ToList();
        Assert.Equal(byValue.OrderDescending(), byValue);
    }

    [Fact]
    public void CellValues_AreWritten_WhiteOnDarkCellsAndBlackOnLight()
    {
        var (layout, image) = Draw(Matrix(new double[,] { { 0.9, 0.1 }, { 0.25, 0.75 } }));
        Assert.True(layout.TextScale > 0);
        Assert.True(CountIn(layout, image, 0, 0, p => p == (255, 255, 255)) > 10, "white text on the dark cell");
        Assert.True(CountIn(layout, image, 0, 1, p => p == (0, 0, 0)) > 10, "black text on the light cell");
        Assert.Equal(0, CountIn(layout, image, 0, 1, p => p == (255, 255, 255)));

        var (other, otherImage) = Draw(Matrix(new double[,] { { 0.9, 0.1 }, { 0.25, 0.75 } }) with { NumberFormat = "0.000" });
        Assert.NotEqual(CountIn(layout, image, 1, 0, p => p == (0, 0, 0)), CountIn(other, otherImage, 1, 0, p => p == (0, 0, 0)));
    }

    [Fact]
    public void ThirtyClasses_Render_WithSmallerOrNoCellText()
    {
        var values = new double[30, 30];
        var random = new Random(5);
        for (int i = 0; i < 30; i++) for (int j = 0; j < 30; j++) values[i, j] = i == j ? 100 + i : random.Next(10);
        var labels = Enumerable.Range(0, 30).Select(i => $"a rather long class name {i}").ToArray();
        var (layout, image) = Draw(Matrix(values, labels) with { NumberFormat = "0" });
        Assert.Equal((1050, 700), (image.Width, image.Height));
        Assert.True(layout.Cell >= 8);
        Assert.InRange(layout.TextScale, 0, 1);
        Assert.True(Luminance(CellColour(layout, image, 29, 29)) < Luminance(CellColour(layout, image, 0, 29)));

        var big = new double[300, 300];
        big[0, 0] = 1;
        var (many, _) = Draw(Matrix(big));
        Assert.Equal(0, many.TextScale);
        Assert.True(many.Cell < 2);
    }

    [Fact]
    public void NaNAndConstantMatrices_Render()
    {
        var (layout, image) = Draw(Matrix(new double[,] { { double.NaN, 1 }, { 2, double.PositiveInfinity } }));
        Assert.Equal((255, 255, 255), CellColour(layout, image, 0, 0));
        Assert.Equal((0x08, 0x30, 0x6b), CellColour(layout, image, 1, 1));
        PngReader.Read(Charts.Png(Matrix(new double[,] { { 4, 4 }, { 4, 4 } })));
        PngReader.Read(Charts.Png(Matrix(new double[,] { { double.NaN } })));
        PngReader.Read(Charts.Png(Matrix(new double[0, 0])));
    }

    [Fact]
    public void LabelsThatDoNotMatchTheMatrix_AreRefused()
    {
        Assert.Throws<ArgumentException>(() => Charts.Png(Matrix(new double[2, 2], ["a", "b", "c"])));
        Assert.Throws<ArgumentException>(() => Charts.Png(Matrix(new double[2, 3], ["a", "b"])));
        Assert.Throws<ArgumentOutOfRangeException>(() => Charts.Png(Matrix(new double[1, 1]) with { Width = 100 }));
    }

    [Fact]
    public void TheTitleAndLabels_AreDrawn()
    {
        var (layout, image) = Draw(Matrix(new double[,] { { 1, 0 }, { 0, 1 } }));
        var (bare, bareImage) = Draw(Matrix(new double[,] { { 1, 0 }, { 0, 1 } }) with { Title = "", XLabel = "", YLabel = "" });
        Assert.True(Ink(image, 0, 0, image.Width, (int)layout.Top - 8) > 100);
        Assert.Equal(0, Ink(bareImage, 0, 0, bareImage.Width, (int)bare.Top - 8));
        // Below the column labels (tick, gap, a line of text): the x label.
        Assert.True(Ink(image, 0, (int)(layout.Top + (2 * layout.Cell)) + 24, image.Width, image.Height) > 50);
        Assert.Equal(0, Ink(bareImage, 0, (int)(bare.Top + (2 * bare.Cell)) + 24, bareImage.Width, bareImage.Height));
    }

    private static int CountIn(RenderedHeatmap layout, PngImage image, int row, int column, Func<(byte R, byte G, byte B), bool> test)
    {
        var (cx, cy) = layout.CellCentre(row, column);
        int half = (int)(layout.Cell / 2) - 1, count = 0;
        for (int y = (int)cy - half; y < (int)cy + half; y++)
            for (int x = (int)cx - half; x < (int)cx + half; x++)
                if (test(image.At(x, y))) count++;
        return count;
    }

    private static int Ink(PngImage image, int x0, int y0, int x1, int y1)
    {
        int count = 0;
        for (int y = Math.Max(0, y0); y < Math.Min(y1, image.Height); y++)
            for (int x = x0; x < x1; x++)
                if (!image.IsWhite(x, y)) count++;
        return count;
    }
}
