using System.Globalization;

namespace MlModels.Core.Evaluation.Plots;

/// <summary>A drawn heatmap and where its cells went: cell (row, column) covers [Left + column·Cell, +Cell) × [Top + row·Cell, +Cell).</summary>
internal sealed record RenderedHeatmap(Raster Image, double Left, double Top, double Cell, int TextScale)
{
    public (double X, double Y) CellCentre(int row, int column) => (Left + ((column + 0.5) * Cell), Top + ((row + 0.5) * Cell));
}

/// <summary>Draws a <see cref="HeatmapChart"/> as scikit-learn's ConfusionMatrixDisplay does. Sizes are in chart pixels.</summary>
internal static class HeatmapRenderer
{
    private const int Pad = 12, TickLength = 4, TickGap = 4, LabelGap = 8, TitleGap = 12, BarGap = 16, BarWidth = 18, MaxLabel = 150;

    public static RenderedHeatmap Render(HeatmapChart chart)
    {
        ArgumentNullException.ThrowIfNull(chart);
        Limits.CheckSize(chart.Width, chart.Height);
        var values = chart.Values ?? throw new ArgumentException("A heatmap's Values must not be null.", nameof(chart));
        var rowLabels = chart.RowLabels ?? throw new ArgumentException("A heatmap's RowLabels must not be null.", nameof(chart));
        var columnLabels = chart.ColumnLabels ?? throw new ArgumentException("A heatmap's ColumnLabels must not be null.", nameof(chart));
        int rows = values.GetLength(0), columns = values.GetLength(1);
        if (rowLabels.Count != rows || columnLabels.Count != columns)
        {
            throw new ArgumentException(
                $"A heatmap of {rows} x {columns} values needs {rows} row labels and {columns} column labels; "
                + $"it has {rowLabels.Count} and {columnLabels.Count}.",
                nameof(chart));
        }
        int width = chart.Width, height = chart.Height;
        var texts = new TextLayer();

        // The colour scale: the finite values' range.
        double min = double.PositiveInfinity, max = double.NegativeInfinity;
        foreach (var v in values) Ticks.Extend(ref min, ref max, v);
        var (low, high) = min > max ? (0, 1) : Ticks.Given((min, max), nameof(chart.Values));
        double barStep = Ticks.Step(high - low, Math.Max(2, (height - 120) / 80));
        var barTicks = Ticks.Values(low, high, barStep);
        var barLabels = barTicks.ConvertAll(v => Ticks.Format(v, barStep, Math.Max(Math.Abs(low), Math.Abs(high))));

        // Margins, then the cell size: square cells, as large as fit.
        int titleScale = BitmapFont.Measure(chart.Title ?? "", 2) <= width - (2 * Pad) ? 2 : 1;
        string title = BitmapFont.Fit(chart.Title ?? "", width - (2 * Pad), titleScale);
        string xLabel = BitmapFont.Fit(chart.XLabel ?? "", width - (2 * Pad), 1), yLabel = BitmapFont.Fit(chart.YLabel ?? "", height - (2 * Pad), 1);
        int labelRoom = Math.Min(MaxLabel, width / 4);
        var rowNames = rowLabels.Select(l => BitmapFont.Fit(l ?? "", labelRoom, 1)).ToList();
        var columnNames = columnLabels.Select(l => BitmapFont.Fit(l ?? "", Math.Min(MaxLabel, height / 4), 1)).ToList();
        int rowNameWidth = rowNames.Select(l => BitmapFont.Measure(l, 1)).DefaultIfEmpty().Max();
        int columnNameWidth = columnNames.Select(l => BitmapFont.Measure(l, 1)).DefaultIfEmpty().Max();
        int barLabelWidth = barLabels.Select(l => BitmapFont.Measure(l, 1)).DefaultIfEmpty().Max();

        int top = Pad + (title.Length > 0 ? (BitmapFont.LineHeight * titleScale) + TitleGap : BitmapFont.LineHeight / 2);
        int left = Pad + (yLabel.Length > 0 ? BitmapFont.LineHeight + LabelGap : 0) + rowNameWidth + TickGap + TickLength + 1;
        int right = width - Pad - barLabelWidth - TickGap - TickLength - BarWidth - BarGap;
        int xLabelRoom = xLabel.Length > 0 ? BitmapFont.LineHeight + LabelGap : 0;
        int bottom = height - Pad - xLabelRoom - BitmapFont.LineHeight - TickGap - TickLength - 1;
        int across = Math.Max(columns, 1), down = Math.Max(rows, 1);
        double cell = CellSize(right - left, bottom - top, across, down);
        bool upright = columnNameWidth > cell - 4;
        if (upright)
        {
            bottom = height - Pad - xLabelRoom - columnNameWidth - TickGap - TickLength - 1;
            cell = CellSize(right - left, bottom - top, across, down);
        }
        double matrixWidth = cell * across, matrixHeight = cell * down;
        double x0 = Math.Round(left + ((right - left - matrixWidth) / 2)), y0 = Math.Round(top + ((bottom - top - matrixHeight) / 2));
        double x1 = x0 + matrixWidth, y1 = y0 + matrixHeight;

        // The cells, and their values where every one fits.
        var canvas = new Canvas(width, height);
        var cellText = new string[rows, columns];
        int widestText = 0;
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < columns; j++)
            {
                cellText[i, j] = values[i, j].ToString(chart.NumberFormat ?? "0.##", CultureInfo.InvariantCulture);
                widestText = Math.Max(widestText, BitmapFont.Measure(cellText[i, j], 1));
            }
        int textScale = widestText * 2 <= cell * 0.8 && cell >= 60 ? 2 : widestText <= cell - 4 && cell >= 13 ? 1 : 0;
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < columns; j++)
            {
                double v = values[i, j];
                if (double.IsNaN(v)) continue;
                var color = Palette.BluesAt((v - low) / (high - low));
                canvas.FillRect(x0 + (j * cell), y0 + (i * cell), x0 + ((j + 1) * cell), y0 + ((i + 1) * cell), color);
                if (textScale == 0) continue;
                var ink = color.Luminance < 0.5 ? Rgb.White : Rgb.Black;
                texts.Centred(cellText[i, j], x0 + ((j + 0.5) * cell), TextLayer.TopFor(y0 + ((i + 0.5) * cell), textScale), textScale, ink);
            }
        canvas.StrokeRect(x0 - 1, y0 - 1, x1 + 1, y1 + 1, 1, Palette.Axes);

        // Ticks and labels: every one, or every k-th where cells are smaller than the text.
        int rowEvery = (int)Math.Ceiling(BitmapFont.LineHeight / cell);
        for (int i = 0; i < rows; i += rowEvery)
        {
            double centre = y0 + ((i + 0.5) * cell);
            int row = (int)Math.Floor(centre);
            canvas.FillRect(x0 - 1 - TickLength, row, x0 - 1, row + 1, Palette.Axes);
            texts.Add(rowNames[i], (int)x0 - 1 - TickLength - TickGap - BitmapFont.Measure(rowNames[i], 1), TextLayer.TopFor(row + 0.5));
        }
        int columnEvery = (int)Math.Ceiling((upright ? BitmapFont.LineHeight : columnNameWidth + 8) / cell);
        int below = (int)y1 + 1 + TickLength + TickGap;
        for (int j = 0; j < columns; j += columnEvery)
        {
            double centre = x0 + ((j + 0.5) * cell);
            int column = (int)Math.Floor(centre);
            canvas.FillRect(column, y1 + 1, column + 1, y1 + 1 + TickLength, Palette.Axes);
            if (upright) texts.Upwards(columnNames[j], (int)Math.Round(column + 0.5 - 6.5), below + (BitmapFont.Measure(columnNames[j], 1) / 2.0));
            else texts.Centred(columnNames[j], column + 0.5, below - 2);
        }

        // The colour bar, as tall as the matrix, its ticks on the right.
        double barLeft = x1 + 1 + BarGap, barRight = barLeft + BarWidth;
        int steps = (int)Math.Max(1, Math.Round(matrixHeight * Canvas.Factor));
        for (int k = 0; k < steps; k++)
        {
            double a = y0 + (matrixHeight * k / steps), b = y0 + (matrixHeight * (k + 1) / steps);
            canvas.FillRect(barLeft, a, barRight, b, Palette.BluesAt(1 - ((k + 0.5) / steps)));
        }
        canvas.StrokeRect(barLeft - 1, y0 - 1, barRight + 1, y1 + 1, 1, Palette.Axes);
        for (int k = 0; k < barTicks.Count; k++)
        {
            int row = (int)Math.Floor(y0 + ((1 - ((barTicks[k] - low) / (high - low))) * matrixHeight));
            canvas.FillRect(barRight + 1, row, barRight + 1 + TickLength, row + 1, Palette.Axes);
            texts.Add(barLabels[k], (int)barRight + 1 + TickLength + TickGap, TextLayer.TopFor(row + 0.5));
        }

        texts.Centred(title, (x0 + x1) / 2, Pad - (2 * titleScale), titleScale, within: (Pad, width - Pad));
        texts.Centred(xLabel, (x0 + x1) / 2, height - Pad - BitmapFont.LineHeight + 2, within: (Pad, width - Pad));
        int yLabelLeft = (int)x0 - 1 - TickLength - TickGap - rowNameWidth - LabelGap - BitmapFont.LineHeight;
        texts.Upwards(yLabel, Math.Max(Pad, yLabelLeft) - 2, (y0 + y1) / 2, within: (Pad, height - Pad));

        var image = canvas.Resolve();
        texts.DrawOn(image);
        return new RenderedHeatmap(image, x0, y0, cell, textScale);
    }

    /// <summary>The largest square cell that fits, in whole pixels from 1 pixel up.</summary>
    private static double CellSize(double roomWidth, double roomHeight, int across, int down)
    {
        double cell = Math.Max(Math.Min(roomWidth / across, roomHeight / down), 0.05);
        return cell >= 1 ? Math.Floor(cell) : cell;
    }
}
