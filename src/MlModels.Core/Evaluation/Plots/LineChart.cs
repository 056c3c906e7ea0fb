namespace MlModels.Core.Evaluation.Plots;

/// <summary>One curve or point set of a <see cref="LineChart"/>: X and Y of the same length; NaN and infinite points are skipped.</summary>
public sealed record Series(string Label, IReadOnlyList<double> X, IReadOnlyList<double> Y);

/// <summary>How a <see cref="LineChart"/> draws its series.</summary>
public enum LineStyle
{
    /// <summary>Straight segments from point to point (matplotlib's <c>plot</c>).</summary>
    Line,

    /// <summary>Steps that keep each point's y until the next point's x (matplotlib's <c>drawstyle="steps-post"</c>).</summary>
    StepsPost,

    /// <summary>A filled circle at each point, no lines (matplotlib's <c>scatter</c>).</summary>
    Markers,
}

/// <summary>
/// A line, step or scatter chart as MLflow's default evaluator draws its curves with matplotlib: title, axes box, ticks at
/// 1/2/5 × 10^k steps, axis labels, a legend and tab10 colours, series after series.
/// </summary>
public sealed record LineChart
{
    public required string Title { get; init; }

    public required string XLabel { get; init; }

    public required string YLabel { get; init; }

    public required IReadOnlyList<Series> Series { get; init; }

    public LineStyle Style { get; init; } = LineStyle.Line;

    /// <summary>A dashed grey reference line from (x0,y0) to (x1,y1), e.g. the ROC diagonal; null: none.</summary>
    public (double X0, double Y0, double X1, double Y1)? Reference { get; init; }

    /// <summary>The x axis' range; null: the data's (and the reference line's) with a 5% margin each side.</summary>
    public (double Min, double Max)? XRange { get; init; }

    /// <summary>The y axis' range; null: the data's (and the reference line's) with a 5% margin each side.</summary>
    public (double Min, double Max)? YRange { get; init; }

    /// <summary>
    /// Whether to list the series in a legend box: inside the axes where it hides the fewest drawn pixels, or outside on
    /// the right when there are more than four series.
    /// </summary>
    public bool Legend { get; init; } = true;

    /// <summary>Width in pixels (160 to 4096); the default 1050 x 700 is matplotlib's 6 x 4 inch figure at 175 dpi.</summary>
    public int Width { get; init; } = 1050;

    /// <summary>Height in pixels (120 to 4096).</summary>
    public int Height { get; init; } = 700;
}
