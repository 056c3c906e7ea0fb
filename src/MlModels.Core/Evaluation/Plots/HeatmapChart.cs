namespace MlModels.Core.Evaluation.Plots;

/// <summary>
/// A confusion matrix as scikit-learn's ConfusionMatrixDisplay draws it with the colour map "Blues": one square cell
/// per value (the largest the darkest), the value written in each cell, true labels down the y axis, predicted labels
/// along the x axis, and a colour bar on the right.
/// </summary>
public sealed record HeatmapChart
{
    /// <summary>The title, e.g. "Normalized confusion matrix".</summary>
    public required string Title { get; init; }

    /// <summary>The true labels, one per row of <see cref="Values"/>, down the y axis.</summary>
    public required IReadOnlyList<string> RowLabels { get; init; }

    /// <summary>The predicted labels, one per column of <see cref="Values"/>, along the x axis.</summary>
    public required IReadOnlyList<string> ColumnLabels { get; init; }

    /// <summary>The values, [row, column]; NaN cells are left white.</summary>
    public required double[,] Values { get; init; }

    public string XLabel { get; init; } = "Predicted label";

    public string YLabel { get; init; } = "True label";

    /// <summary>
    /// The .NET format of the value written in each cell, with the invariant culture; the text is white on dark cells
    /// and black on light ones, and left out where cells are too small for it.
    /// </summary>
    public string NumberFormat { get; init; } = "0.##";

    /// <summary>Width in pixels (160 to 4096).</summary>
    public int Width { get; init; } = 1050;

    /// <summary>Height in pixels (120 to 4096).</summary>
    public int Height { get; init; } = 700;
}
