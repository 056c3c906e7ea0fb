using MlModels.Core.Evaluation.Plots;

namespace MlModels.Core.Tests.Evaluation.Plots;

[Trait("Category", "Fast")]
public class LineChartTests
{
    private static readonly (byte R, byte G, byte B) Blue = (0x1f, 0x77, 0xb4);

    private static LineChart Chart(params Series[] series) => new()
    {
        Title = "Chart", XLabel = "x", YLabel = "y", Series = series, XRange = (0, 1), YRange = (0, 1), Legend = false,
    };

    /// <summary>The chart drawn (for where its data went) and its PNG file decoded (for what is there).</summary>
    private static (RenderedChart Layout, PngImage Image) Draw(LineChart chart) =>
        (LineChartRenderer.Render(chart), PngReader.Read(Charts.Png(chart)));

    /// <summary>Whether a pixel within the distance of the data point passes the test.</summary>
    private static bool Near(RenderedChart layout, PngImage image, double x, double y, int distance, Func<(byte R, byte G, byte B), bool> test)
    {
        var (px, py) = layout.ToPixel(x, y);
        for (int j = (int)py - distance; j <= (int)py + distance; j++)
            for (int i = (int)px - distance; i <= (int)px + distance; i++)
                if (i >= 0 && j >= 0 && i < image.Width && j < image.Height && test(image.At(i, j))) return true;
        return false;
    }

    private static bool IsBlue((byte R, byte G, byte B) p) =>
        Math.Abs(p.R - Blue.R) <= 4 && Math.Abs(p.G - Blue.G) <= 4 && Math.Abs(p.B - Blue.B) <= 4;

    private static bool IsGrey((byte R, byte G, byte B) p) => Math.Abs(p.R - p.G) <= 6 && Math.Abs(p.G - p.B) <= 6 && p.R is > 60 and < 225;

    private static bool IsInk((byte R, byte G, byte B) p) => p != (255, 255, 255);

    private static int Fraction(Func<double, bool> atT)
    {
        int hits = 0, all = 0;
        for (double t = 0.04; t < 0.97; t += 0.02, all++) if (atT(t)) hits++;
        return hits * 100 / all;
    }

    [Fact]
    public void TheReferenceLine_IsDrawnGreyAlongThePlotsDiagonal()
    {
        var (layout, image) = Draw(Chart() with { Reference = (0, 0, 1, 1) });
        int onDiagonal = Fraction(t => Near(layout, image, t, t, 1, IsGrey));
        Assert.True(onDiagonal >= 50, $"grey near {onDiagonal}% of the diagonal's samples");
        Assert.Equal(0, Fraction(t => Near(layout, image, t, 1 - t, 1, IsGrey) && Math.Abs(t - 0.5) > 0.03));

        // Dashed: pixel by pixel along the diagonal, some are grey and some are not.
        int grey = 0, steps = 2000;
        for (int k = 100; k < steps - 100; k++)
            if (Near(layout, image, k / (double)steps, k / (double)steps, 0, p => IsGrey(p) && p.R < 200)) grey++;
        Assert.InRange(grey * 100 / (steps - 200), 30, 90);

        var (plain, plainImage) = Draw(Chart());
        Assert.Equal(0, Fraction(t => Near(plain, plainImage, t, t, 1, IsGrey)));
    }

    [Fact]
    public void ASeries_IsDrawnInTab10sFirstColourAlongItsPath()
    {
        var (layout, image) = Draw(Chart(new Series("a", [0, 1], [0, 1])));
        Assert.Equal(100, Fraction(t => Near(layout, image, t, t, 1, IsBlue)));
        Assert.Equal(0, Fraction(t => Near(layout, image, t, 1 - t, 2, IsBlue) && Math.Abs(t - 0.5) > 0.03));
        Assert.True(Near(layout, image, 0.5, 0.5, 0, p => p == Blue), "the line's middle is exactly #1f77b4");

        var (second, secondImage) = Draw(Chart(new Series("a", [], []), new Series("b", [0, 1], [0, 1])));
        Assert.True(Near(second, secondImage, 0.5, 0.5, 0, p => p == (0xff, 0x7f, 0x0e)), "the second series is orange");
    }

    [Fact]
    public void StepsPost_KeepsEachYUntilTheNextX_UnlikeALine()
    {
        var series = new Series("a", [0, 1], [0, 1]);
        var chart = Chart(series) with { XRange = (-0.2, 1.2), YRange = (-0.2, 1.2) };
        var (line, lineImage) = Draw(chart);
        var (steps, stepsImage) = Draw(chart with { Style = LineStyle.StepsPost });
        Assert.NotEqual(lineImage.Pixels, stepsImage.Pixels);
        Assert.True(Near(steps, stepsImage, 0.5, 0, 1, IsBlue), "steps: along y = 0 first");
        Assert.True(Near(steps, stepsImage, 1, 0.5, 1, IsBlue), "steps: then up at x = 1");
        Assert.False(Near(steps, stepsImage, 0.5, 0.5, 3, IsBlue), "steps: nothing on the diagonal");
        Assert.True(Near(line, lineImage, 0.5, 0.5, 1, IsBlue));
        Assert.False(Near(line, lineImage, 0.5, 0, 3, IsBlue));
    }

    [Fact]
    public void Markers_AreDrawnAtThePointsOnly()
    {
        var (layout, image) = Draw(Chart(new Series("a", [0.25, 0.75], [0.25, 0.75])) with { Style = LineStyle.Markers });
        Assert.True(Near(layout, image, 0.25, 0.25, 0, p => p == Blue));
        Assert.True(Near(layout, image, 0.75, 0.75, 0, p => p == Blue));
        Assert.False(Near(layout, image, 0.5, 0.5, 3, IsInk));
    }

    [Fact]
    public void TheTitleAndAxisLabels_AreDrawn()
    {
        var (layout, image) = Draw(Chart() with { Title = "ROC curve", XLabel = "False Positive Rate", YLabel = "True Positive Rate" });
        var (bare, bareImage) = Draw(Chart() with { Title = "", XLabel = "", YLabel = "" });
        Assert.True(InkIn(image, 0, 0, image.Width, layout.Frame.Top - 8) > 100, "the title's pixels");
        Assert.True(InkIn(image, 0, 0, image.Width, layout.Frame.Top - 8, p => p.R < 80 && p.G < 80 && p.B < 80) > 50, "the title is black");
        Assert.Equal(0, InkIn(bareImage, 0, 0, bareImage.Width, bare.Frame.Top - 8));
        // Below the tick labels (tick, gap, a line of text): the x label.
        Assert.True(InkIn(image, 0, layout.Frame.Bottom + 24, image.Width, image.Height) > 50, "the x label's pixels");
        Assert.Equal(0, InkIn(bareImage, 0, bare.Frame.Bottom + 24, bareImage.Width, bareImage.Height));
        // Left of the tick labels: the y label, upright.
        Assert.True(InkIn(image, 0, layout.Frame.Top, 26, layout.Frame.Bottom) > 50, "the y label's pixels");
        Assert.Equal(0, InkIn(bareImage, 0, bare.Frame.Top, 12, bare.Frame.Bottom));
    }

    [Fact]
    public void NaNAndInfinitePoints_AreSkipped_AndBreakTheLine()
    {
        var series = new Series("a", [0, 0.2, 0.4, double.PositiveInfinity, 0.6, 0.8], [0, 0.2, double.NaN, 0.5, 0.6, 0.8]);
        var (layout, image) = Draw(Chart(series));
        Assert.True(Near(layout, image, 0.1, 0.1, 1, IsBlue));
        Assert.True(Near(layout, image, 0.7, 0.7, 1, IsBlue));
        Assert.False(Near(layout, image, 0.4, 0.4, 3, IsBlue), "no line through the missing points");

        var auto = Chart(series, new Series("only NaN", [double.NaN], [1])) with
        {
            XRange = null,
            YRange = null,
            Style = LineStyle.StepsPost,
            Legend = true,
        };
        var rendered = LineChartRenderer.Render(auto);
        Assert.True(rendered.XMin < 0 && rendered.XMax > 0.8 && rendered.XMax < 1);
        PngReader.Read(Charts.Png(auto with { Style = LineStyle.Markers }));
    }

    [Fact]
    public void EmptySeries_StillDrawTheAxes()
    {
        foreach (var chart in new[] { Chart() with { XRange = null, YRange = null }, Chart(new Series("none", [], [])) with { Legend = true } })
        {
            var (layout, image) = Draw(chart);
            Assert.Equal((0, 1), (layout.XMin, layout.XMax));
            Assert.All(Enumerable.Range(layout.Frame.Top, layout.Frame.Height), y => Assert.Equal((0, 0, 0), image.At(layout.Frame.Left, y)));
            Assert.All(Enumerable.Range(layout.Frame.Left, layout.Frame.Width), x => Assert.Equal((0, 0, 0), image.At(x, layout.Frame.Bottom)));
        }
    }

    [Fact]
    public void AutomaticRanges_HaveMargins_AndAConstantRangeWidens()
    {
        var rendered = LineChartRenderer.Render(Chart(new Series("a", [0, 10], [3, 3])) with { XRange = null, YRange = null });
        Assert.Equal((-0.5, 10.5), (rendered.XMin, rendered.XMax));
        Assert.Equal((2.5, 3.5), (rendered.YMin, rendered.YMax));
        var single = LineChartRenderer.Render(Chart() with { XRange = (1000, 1000), YRange = (0, 0) });
        Assert.Equal((950, 1050, -0.5, 0.5), (single.XMin, single.XMax, single.YMin, single.YMax));
    }

    [Fact]
    public void HugeValues_AreClippedNotThrown()
    {
        var series = new Series("a", [0.2, 0.4, 0.5, 1e300, -1e308, double.MaxValue], [0.2, 0.4, 1e300, -1e308, 0.5, double.MinValue]);
        var (layout, image) = Draw(Chart(series));
        Assert.True(Near(layout, image, 0.3, 0.3, 1, IsBlue));
        Assert.True(Near(layout, image, 0.4, 0.8, 1, IsBlue), "on to (0.5, 1e300): straight up");
        foreach (var style in new[] { LineStyle.Line, LineStyle.StepsPost, LineStyle.Markers })
        {
            PngReader.Read(Charts.Png(Chart(series) with { XRange = null, YRange = null, Style = style, Reference = (0, 0, 1e308, -1e308) }));
            PngReader.Read(Charts.Png(Chart(series) with { XRange = (-1e300, 1e300), YRange = (1e-300, 2e-300), Style = style }));
        }
    }

    [Fact]
    public void AMillionPointScatter_AndLine_Finish()
    {
        const int n = 1_000_000;
        var x = new double[n];
        var y = new double[n];
        var random = new Random(3);
        for (int i = 0; i < n; i++) (x[i], y[i]) = (i / (double)n, Math.Sin(i / 20000.0) + random.NextDouble());
        var scatter = new LineChart
        {
            Title = "Scatter", XLabel = "x", YLabel = "y", Series = [new Series("points", x, y)], Style = LineStyle.Markers,
        };
        var image = PngReader.Read(Charts.Png(scatter));
        Assert.Equal(1050, image.Width);
        Assert.True(image.Pixels.Count(b => b != 255) > 100_000);
        PngReader.Read(Charts.Png(scatter with { Style = LineStyle.Line }));
    }

    [Fact]
    public void TheLegend_GoesWhereItHidesLeast_OrOutsideForMoreThanFourSeries()
    {
        // A curve hugging the top-left corner: the best place is at the bottom right.
        var curve = new Series("model", [0, 0, 1], [0, 1, 1]);
        var chart = Chart(curve) with { XRange = (-0.05, 1.05), YRange = (-0.05, 1.05), Reference = (0, 0, 1, 1), Legend = true };
        var (layout, image) = Draw(chart);
        var f = layout.Frame;
        int midX = (f.Left + f.Right) / 2, midY = (f.Top + f.Bottom) / 2;
        Assert.True(InkIn(image, midX, midY, f.Right, f.Bottom, IsLegendEdge) > 20, "the legend's frame at the bottom right");
        Assert.Equal(0, InkIn(image, f.Left, f.Top, midX, midY, IsLegendEdge));
        Assert.Equal(0, InkIn(image, midX, f.Top + 2, f.Right, midY, IsLegendEdge));

        var many = Chart([.. Enumerable.Range(0, 6).Select(i => new Series($"class {i}", [0, 1], [i / 6.0, 1 - (i / 6.0)]))]) with { Legend = true };
        var (outer, outerImage) = Draw(many);
        int rightOfAxes = outer.Frame.Right + 2;
        Assert.True(InkIn(outerImage, rightOfAxes, 0, outerImage.Width, outerImage.Height, IsLegendEdge) > 20, "the legend right of the axes");
        Assert.Equal(0, InkIn(outerImage, outer.Frame.Left, outer.Frame.Top, outer.Frame.Right, outer.Frame.Bottom, IsLegendEdge));
        foreach (var swatch in new[] { ((byte)0xff, (byte)0x7f, (byte)0x0e), ((byte)0x8c, (byte)0x56, (byte)0x4b) })
            Assert.True(InkIn(outerImage, rightOfAxes, 0, outerImage.Width, outerImage.Height, p => p == swatch) > 5, $"the swatch {swatch}");

        var hundred = many with { Series = [.. Enumerable.Range(0, 100).Select(i => new Series($"s{i}", [0, 1], [0, 1]))] };
        PngReader.Read(Charts.Png(hundred));
    }

    [Fact]
    public void BadInput_IsRefusedWithArgumentExceptions()
    {
        Assert.Throws<ArgumentException>(() => Charts.Png(Chart(new Series("a", [0, 1], [0]))));
        Assert.Throws<ArgumentException>(() => Charts.Png(Chart() with { XRange = (1, 0) }));
        Assert.Throws<ArgumentException>(() => Charts.Png(Chart() with { YRange = (0, double.NaN) }));
        Assert.Throws<ArgumentOutOfRangeException>(() => Charts.Png(Chart() with { Width = 10 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => Charts.Png(Chart() with { Height = 5000 }));
        Assert.Throws<ArgumentNullException>(() => Charts.Png((LineChart)null!));
    }

    [Fact]
    public void SmallAndLargeCanvases_Render()
    {
        var chart = Chart(new Series("a very long series label that will not fit in a small chart at all", [0, 1], [0, 1])) with
        {
            Title = "A title far too long for a small chart, so it is cut short with an ellipsis",
            Legend = true,
        };
        Assert.Equal((160, 120), Size(PngReader.Read(Charts.Png(chart with { Width = 160, Height = 120 }))));
        Assert.Equal((2000, 1500), Size(PngReader.Read(Charts.Png(chart with { Width = 2000, Height = 1500 }))));
    }

    [Fact]
    public void TickSteps_AreOneTwoOrFiveTimesAPowerOfTen_AndLabelledWithTheDecimalsTheyNeed()
    {
        Assert.Equal(0.2, Ticks.Step(1.1, 8), 12);
        Assert.Equal(5, Ticks.Step(33, 8), 12);
        Assert.Equal(1000, Ticks.Step(9000, 9), 12);
        Assert.Equal(0.01, Ticks.Step(0.05, 5), 12);
        var values = Ticks.Values(-0.05, 1.05, 0.2);
        Assert.Equal(["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"], values.Select(v => Ticks.Format(v, 0.2, 1.05)));
        Assert.Equal("15", Ticks.Format(15, 5, 100));
        Assert.Equal("-0.05", Ticks.Format(-0.05, 0.05, 1));
        Assert.Equal("1.5e6", Ticks.Format(1.5e6, 5e5, 2e6));
        Assert.Equal("0", Ticks.Format(0, 5e5, 2e6));
        Assert.DoesNotContain(Ticks.Values(-1, 1, 0.1), v => v == 0 && double.IsNegative(v));
    }

    [Fact]
    public void Text_IsCutWithAnEllipsis_AndOtherCharactersDrawAsQuestionMarks()
    {
        var cut = BitmapFont.Fit("a label far too long to fit", 60, 1);
        Assert.EndsWith("…", cut);
        Assert.True(BitmapFont.Measure(cut, 1) <= 60);
        Assert.Equal("short", BitmapFont.Fit("short", 60, 1));
        Assert.Equal(BitmapFont.Measure("?", 1), BitmapFont.Measure("😀", 1));
        Assert.Equal(Text("a?b"), Text("aéb"));
        Assert.Equal(Text("a?b"), Text("a😀b"));
        Assert.Equal(Text("a?b"), Text("a\u007fb"));
        Assert.NotEqual(Text("a?b"), Text("a…b"));
        Assert.NotEqual(Text("abc"), Text("abd"));
    }

    private static byte[] Text(string text)
    {
        var raster = new Raster(40, 30);
        BitmapFont.Draw(raster, text, 1, 1, 1, Rgb.Black);
        BitmapFont.Draw(raster, text, 1, 28, 1, Rgb.Black, rotated: true);
        return raster.Pixels;
    }

    private static (int, int) Size(PngImage image) => (image.Width, image.Height);

    private static bool IsLegendEdge((byte R, byte G, byte B) p) => p == (204, 204, 204);

    private static int InkIn(PngImage image, int x0, int y0, int x1, int y1, Func<(byte R, byte G, byte B), bool>? test = null)
    {
        test ??= IsInk;
        int count = 0;
        for (int y = Math.Max(0, y0); y < Math.Min(image.Height, y1); y++)
            for (int x = Math.Max(0, x0); x < Math.Min(image.Width, x1); x++)
                if (test(image.At(x, y))) count++;
        return count;
    }
}
