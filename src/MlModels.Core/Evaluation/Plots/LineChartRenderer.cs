namespace MlModels.Core.Evaluation.Plots;

/// <summary>Draws a <see cref="LineChart"/>: layout, data, axes, legend, text. Sizes are in chart pixels.</summary>
internal static class LineChartRenderer
{
    private const int Pad = 12, TickLength = 5, TickGap = 4, LabelGap = 8, TitleGap = 12;
    private const int LegendPad = 8, LegendSwatch = 24, LegendSwatchGap = 8, LegendRow = 18, LegendInset = 10, LegendMaxLabel = 240;
    private const double LineWidth = 2, ReferenceWidth = 1.5, MarkerRadius = 3, Dash = 6, DashGap = 4;

    public static RenderedChart Render(LineChart chart)
    {
        ArgumentNullException.ThrowIfNull(chart);
        Limits.CheckSize(chart.Width, chart.Height);
        var series = chart.Series ?? throw new ArgumentException("A line chart's Series must not be null.", nameof(chart));
        for (int i = 0; i < series.Count; i++)
        {
            var s = series[i] ?? throw new ArgumentException($"Series {i} is null.", nameof(chart));
            if (s.X is null || s.Y is null || s.X.Count != s.Y.Count)
            {
                throw new ArgumentException(
                    $"Series {i} ('{s.Label}') needs X and Y of the same length; they have {s.X?.Count} and {s.Y?.Count}.", nameof(chart));
            }
        }
        int width = chart.Width, height = chart.Height;
        var (xMin, xMax) = chart.XRange is { } xr ? Ticks.Given(xr, nameof(chart.XRange)) : AutoRange(chart, xAxis: true);
        var (yMin, yMax) = chart.YRange is { } yr ? Ticks.Given(yr, nameof(chart.YRange)) : AutoRange(chart, xAxis: false);
        var texts = new TextLayer();

        // Title, then the margins the labels need.
        int titleScale = BitmapFont.Measure(chart.Title ?? "", 2) <= width - (2 * Pad) ? 2 : 1;
        string title = BitmapFont.Fit(chart.Title ?? "", width - (2 * Pad), titleScale);
        int top = Pad + (title.Length > 0 ? (BitmapFont.LineHeight * titleScale) + TitleGap : BitmapFont.LineHeight / 2);
        string xLabel = BitmapFont.Fit(chart.XLabel ?? "", width - (2 * Pad), 1);
        int bottom = height - 1 - Pad - (xLabel.Length > 0 ? BitmapFont.LineHeight + LabelGap : 0) - BitmapFont.LineHeight - TickGap - TickLength;
        string yLabel = BitmapFont.Fit(chart.YLabel ?? "", bottom - top, 1);
        double yStep = Ticks.Step(yMax - yMin, Math.Max(2, (bottom - top) / 70));
        var yTicks = Ticks.Values(yMin, yMax, yStep);
        var yTickLabels = yTicks.ConvertAll(v => Ticks.Format(v, yStep, Math.Max(Math.Abs(yMin), Math.Abs(yMax))));
        int yTickWidth = yTickLabels.Count == 0 ? 0 : yTickLabels.Max(l => BitmapFont.Measure(l, 1));
        int left = Pad + (yLabel.Length > 0 ? BitmapFont.LineHeight + LabelGap : 0) + yTickWidth + TickGap + TickLength;

        // The legend: its entries, and whether it goes outside the axes, on the right.
        bool legend = chart.Legend && series.Count > 0;
        var entries = series.Select(s => BitmapFont.Fit(s.Label ?? "", Math.Min(LegendMaxLabel, width / 4), 1)).ToList();
        int maxRows = Math.Max(1, (height - top - Pad - (2 * LegendPad)) / LegendRow);
        if (entries.Count > maxRows)
        {
            int more = entries.Count - maxRows + 1;
            entries = [.. entries.Take(maxRows - 1), $"and {more} more"];
        }
        int legendWidth = (2 * LegendPad) + LegendSwatch + LegendSwatchGap + entries.Select(e => BitmapFont.Measure(e, 1)).DefaultIfEmpty().Max();
        int legendHeight = (2 * LegendPad) + (entries.Count * LegendRow) - (LegendRow - BitmapFont.LineHeight);
        int right = width - 1 - Pad;
        bool outside = legend && (series.Count > 4 || legendWidth > 0.5 * (right - left) || legendHeight > 0.6 * (bottom - top))
            && legendWidth <= 0.35 * width; // on a small canvas, inside over the data rather than squeezing the axes to nothing
        if (outside) right -= legendWidth + LabelGap;

        // x ticks: as many as fit with their labels apart; the last label's half must fit right of the frame.
        double largestX = Math.Max(Math.Abs(xMin), Math.Abs(xMax));
        double xStep = Ticks.Step(xMax - xMin, Math.Max(2, (right - left) / 90));
        var xTickLabels = Ticks.Values(xMin, xMax, xStep).ConvertAll(v => Ticks.Format(v, xStep, largestX));
        int widest = xTickLabels.Count == 0 ? 0 : xTickLabels.Max(l => BitmapFont.Measure(l, 1));
        if (widest + 20 > (right - left) / Math.Max(1, (xMax - xMin) / xStep))
            xStep = Ticks.Step(xMax - xMin, Math.Max(2, (right - left) / (widest + 20)));
        var xTicks = Ticks.Values(xMin, xMax, xStep);
        xTickLabels = xTicks.ConvertAll(v => Ticks.Format(v, xStep, largestX));
        if (!outside && xTickLabels.Count > 0) right = Math.Min(right, width - 2 - (BitmapFont.Measure(xTickLabels[^1], 1) / 2));
        right = Math.Max(right, left + 10);
        bottom = Math.Max(bottom, top + 10);

        var frame = new PixelRect(left, top, right, bottom);
        var result = new RenderedChart(null!, frame, xMin, xMax, yMin, yMax);
        var canvas = new Canvas(width, height);

        // The data, clipped to the frame's inside (and the inner halves of its lines, which go over it).
        canvas.Clip(left + 0.5, top + 0.5, right + 0.5, bottom + 0.5);
        if (chart.Reference is { } r)
        {
            var (ax, ay) = result.ToPixel(r.X0, r.Y0);
            var (bx, by) = result.ToPixel(r.X1, r.Y1);
            canvas.DashedLine(ax, ay, bx, by, ReferenceWidth, Dash, DashGap, Palette.Reference);
        }
        if (chart.Style == LineStyle.Markers)
        {
            var markers = new Canvas.Markers(canvas, MarkerRadius);
            for (int i = 0; i < series.Count; i++)
            {
                markers.NextSeries();
                var (xs, ys, color) = (series[i].X, series[i].Y, Palette.Series(i));
                for (int k = 0; k < xs.Count; k++)
                {
                    var (px, py) = result.ToPixel(xs[k], ys[k]);
                    markers.Draw(px, py, color);
                }
            }
        }
        else
        {
            for (int i = 0; i < series.Count; i++) DrawLine(canvas, result, series[i], Palette.Series(i), chart.Style == LineStyle.StepsPost);
        }
        canvas.ResetClip();

        // The frame and its ticks.
        canvas.StrokeRect(left, top, right + 1, bottom + 1, 1, Palette.Axes);
        for (int i = 0; i < xTicks.Count; i++)
        {
            int column = (int)Math.Floor(result.ToPixel(xTicks[i], yMin).X);
            canvas.FillRect(column, bottom + 1, column + 1, bottom + 1 + TickLength, Palette.Axes);
            texts.Centred(xTickLabels[i], column + 0.5, bottom + 1 + TickLength + TickGap - 2);
        }
        for (int i = 0; i < yTicks.Count; i++)
        {
            int row = (int)Math.Floor(result.ToPixel(xMin, yTicks[i]).Y);
            canvas.FillRect(left - TickLength, row, left, row + 1, Palette.Axes);
            texts.Add(yTickLabels[i], left - TickLength - TickGap - BitmapFont.Measure(yTickLabels[i], 1), TextLayer.TopFor(row + 0.5));
        }
        double middleX = (left + right + 1) / 2.0, middleY = (top + bottom + 1) / 2.0;
        texts.Centred(title, middleX, Pad - (2 * titleScale), titleScale, within: (Pad, width - Pad));
        texts.Centred(xLabel, middleX, height - Pad - BitmapFont.LineHeight + 2, within: (Pad, width - Pad));
        texts.Upwards(yLabel, Pad - 2, middleY);

        if (legend) DrawLegend(canvas, texts, chart.Style, entries, series.Count, frame, outside, legendWidth, legendHeight);

        var image = canvas.Resolve();
        texts.DrawOn(image);
        return result with { Image = image };
    }

    /// <summary>The data's range along one axis (the reference line's ends too), with automatic margins.</summary>
    private static (double Min, double Max) AutoRange(LineChart chart, bool xAxis)
    {
        double min = double.PositiveInfinity, max = double.NegativeInfinity;
        foreach (var s in chart.Series)
        {
            var values = xAxis ? s.X : s.Y;
            var others = xAxis ? s.Y : s.X;
            for (int i = 0; i < values.Count; i++)
                if (double.IsFinite(others[i])) Ticks.Extend(ref min, ref max, values[i]);
        }
        if (chart.Reference is { } r)
        {
            Ticks.Extend(ref min, ref max, xAxis ? r.X0 : r.Y0);
            Ticks.Extend(ref min, ref max, xAxis ? r.X1 : r.Y1);
        }
        return Ticks.Auto(min, max);
    }

    /// <summary>A series as a polyline (steps: along, then up or down), broken at NaN and infinite points.</summary>
    private static void DrawLine(Canvas canvas, RenderedChart map, Series series, Rgb color, bool steps)
    {
        var line = new Polyline(canvas, color);
        double previousY = double.NaN;
        for (int i = 0; i < series.X.Count; i++)
        {
            double x = series.X[i], y = series.Y[i];
            if (!double.IsFinite(x) || !double.IsFinite(y))
            {
                line.Break();
                previousY = double.NaN;
                continue;
            }
            var (px, py) = map.ToPixel(x, y);
            if (steps && !double.IsNaN(previousY)) line.Add(px, previousY);
            line.Add(px, py);
            previousY = py;
        }
        line.Break();
    }

    /// <summary>
    /// The legend box: outside on the right, level with the frame's top; or inside, where it hides the fewest drawn
    /// pixels, trying the places in matplotlib's order for "best" (ties go to the first).
    /// </summary>
    private static void DrawLegend(Canvas canvas, TextLayer texts, LineStyle style, List<string> entries, int seriesCount,
        PixelRect frame, bool outside, int boxWidth, int boxHeight)
    {
        double x, y;
        if (outside)
        {
            (x, y) = (frame.Right + 1 + LabelGap, frame.Top);
        }
        else
        {
            double l = frame.Left + 1 + LegendInset, r = frame.Right - LegendInset - boxWidth;
            double t = frame.Top + 1 + LegendInset, b = frame.Bottom - LegendInset - boxHeight;
            double cx = (l + r) / 2, cy = (t + b) / 2;
            ReadOnlySpan<(double X, double Y)> places = [(r, t), (l, t), (l, b), (r, b), (r, cy), (l, cy), (cx, b), (cx, t), (cx, cy)];
            (x, y) = places[0];
            long least = long.MaxValue;
            foreach (var (px, py) in places)
            {
                long ink = canvas.Ink(px, py, px + boxWidth, py + boxHeight);
                if (ink < least) (least, x, y) = (ink, px, py);
            }
            (x, y) = (Math.Round(x), Math.Round(y));
        }
        canvas.FillRect(x, y, x + boxWidth, y + boxHeight, Rgb.White);
        canvas.StrokeRect(x, y, x + boxWidth, y + boxHeight, 1, Palette.LegendEdge);
        for (int i = 0; i < entries.Count; i++)
        {
            double rowMiddle = y + LegendPad + (i * LegendRow) + (BitmapFont.LineHeight / 2.0);
            double swatch = x + LegendPad;
            bool isSeries = !(i == entries.Count - 1 && entries.Count < seriesCount); // the last row may be "and N more"
            if (isSeries && style == LineStyle.Markers) canvas.Disk(swatch + (LegendSwatch / 2.0), rowMiddle, MarkerRadius, Palette.Series(i));
            else if (isSeries) canvas.Line(swatch, rowMiddle, swatch + LegendSwatch, rowMiddle, LineWidth, Palette.Series(i));
            texts.Add(entries[i], (int)(swatch + LegendSwatch + LegendSwatchGap), TextLayer.TopFor(rowMiddle));
        }
    }

    /// <summary>
    /// A polyline drawn as it comes, its points merged per device pixel column: consecutive points in one column become
    /// one vertical stroke from their lowest to their highest, so a million sorted points cost a few thousand segments.
    /// </summary>
    private sealed class Polyline(Canvas canvas, Rgb color)
    {
        private bool _open;
        private double _column, _runX, _lastX, _lastY, _minY, _maxY;

        public void Add(double x, double y)
        {
            double column = Math.Floor(x * Canvas.Factor);
            if (_open && column == _column)
            {
                (_lastX, _lastY, _minY, _maxY) = (x, y, Math.Min(_minY, y), Math.Max(_maxY, y));
                return;
            }
            if (_open)
            {
                Flush();
                canvas.Line(_lastX, _lastY, x, y, LineWidth, color);
            }
            (_open, _column, _runX, _lastX, _lastY, _minY, _maxY) = (true, column, x, x, y, y, y);
        }

        public void Break()
        {
            if (_open) Flush();
            _open = false;
        }

        private void Flush()
        {
            if (_maxY > _minY) canvas.Line(_runX, _minY, _runX, _maxY, LineWidth, color);
        }
    }
}
