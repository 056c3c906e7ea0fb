using System.Globalization;
using MlModels.Core.Format.Yaml;

namespace MlModels.Core.Evaluation;

/// <summary>
/// MLflow's <c>MetricThreshold</c>: a value the metric must reach, and a change over the baseline's value it must make
/// (absolute, or relative to the baseline's value). <see cref="GreaterIsBetter"/> says which way is better.
/// </summary>
public sealed record MetricThreshold
{
    public double? Threshold { get; init; }
    public double? MinAbsoluteChange { get; init; }
    public double? MinRelativeChange { get; init; }
    public required bool GreaterIsBetter { get; init; }

    /// <summary>MLflow's checks when a MetricThreshold is made; the message names the metric.</summary>
    public void Check(string metric)
    {
        string? problem = null;
        if (MinAbsoluteChange is double a && !(a > 0)) problem = "`min_absolute_change` parameter must be a positive number.";
        else if (MinRelativeChange is double r && !(r >= 0 && r <= 1)) problem = "`min_relative_change` parameter must be between 0 and 1.";
        else if (Threshold is double t && double.IsNaN(t)) problem = "`threshold` parameter must be a number.";
        else if (Threshold == null && MinAbsoluteChange == null && MinRelativeChange == null) problem = "no threshold was specified.";
        if (problem != null)
            throw new EvaluationException($"The threshold for metric '{metric}': could not instantiate MetricThreshold class: {problem}")
            {
                Column = metric
            };
    }

    /// <summary>MLflow's text of a threshold ("Threshold: 0.8. Higher value is better.").</summary>
    public override string ToString()
    {
        var parts = new List<string>();
        if (Threshold is double t) parts.Add($"Threshold: {MetricText.Of(t)}.");
        if (MinAbsoluteChange is double a) parts.Add($"Minimum Absolute Change: {MetricText.Of(a)}.");
        if (MinRelativeChange is double r) parts.Add($"Minimum Relative Change: {MetricText.Of(r)}.");
        parts.Add(GreaterIsBetter ? "Higher value is better." : "Lower value is better.");
        return string.Join(" ", parts);
    }
}

/// <summary>One metric's outcome against its threshold, worded as MLflow's <c>_MetricValidationResult</c>.</summary>
public sealed record MetricValidationResult(string Metric, double? CandidateValue, double? BaselineValue, MetricThreshold Threshold)
{
    public bool MissingCandidate { get; init; }
    public bool MissingBaseline { get; init; }
    public bool ThresholdFailed { get; init; }
    public bool MinAbsoluteChangeFailed { get; init; }
    public bool MinRelativeChangeFailed { get; init; }
    public bool Passed => !MissingCandidate && !MissingBaseline && !ThresholdFailed && !MinAbsoluteChangeFailed && !MinRelativeChangeFailed;

    public override string ToString()
    {
        if (Passed) return $"Metric {Metric} passed the validation.";
        if (MissingCandidate) return $"Metric validation failed: metric {Metric} was missing from the evaluation result of the candidate model.";
        var c = MetricText.Of(Metric, CandidateValue);
        var b = MetricText.Of(Metric, BaselineValue);
        var parts = new List<string>();
        if (ThresholdFailed)
            parts.Add($"Metric {Metric} value threshold check failed: candidate model {Metric} = {c}, {Metric} threshold = " +
                $"{MetricText.Of(Threshold.Threshold!.Value)}.");
        if (MissingBaseline) parts.Add($"Model comparison failed: metric {Metric} was missing from the evaluation result of the baseline model.");
        else
        {
            if (MinAbsoluteChangeFailed)
                parts.Add($"Metric {Metric} minimum absolute change check failed: candidate model {Metric} = {c}, baseline model {Metric} = {b}, " +
                    $"{Metric} minimum absolute change threshold = {MetricText.Of(Threshold.MinAbsoluteChange!.Value)}.");
            if (MinRelativeChangeFailed)
                parts.Add($"Metric {Metric} minimum relative change check failed: candidate model {Metric} = {c}, baseline model {Metric} = {b}, " +
                    $"{Metric} minimum relative change threshold = {MetricText.Of(Threshold.MinRelativeChange!.Value)}.");
        }
        return string.Join(" ", parts);
    }
}

/// <summary>MLflow's <c>ModelValidationFailedException</c>: one line per failed metric, in the order the thresholds were given.</summary>
public sealed class ModelValidationFailedException(IReadOnlyList<MetricValidationResult> failures)
    : Exception(string.Join(Environment.NewLine, failures.Select(f => f.ToString())))
{
    public IReadOnlyList<MetricValidationResult> Failures { get; } = failures;
}

/// <summary>MLflow's model validation (<c>mlflow.models.evaluation.validation._validate</c>).</summary>
public static class ModelValidation
{
    /// <summary>
    /// Checks each threshold against the candidate's metrics (and the baseline's, for the change rules). Every result is
    /// returned, passed or not; the caller raises <see cref="ModelValidationFailedException"/> over the failed ones.
    /// </summary>
    /// <remarks>
    /// Comparisons are made as MLflow makes them: the absolute change in decimal arithmetic (Python's <c>Decimal</c> of
    /// each float), the relative change in floats, and a baseline of 0 falling back to "better by 1e-10".
    /// </remarks>
    public static IReadOnlyList<MetricValidationResult> Validate(IReadOnlyList<KeyValuePair<string, MetricThreshold>> thresholds,
        IReadOnlyDictionary<string, double> candidate, IReadOnlyDictionary<string, double>? baseline, Action<string>? warn = null)
    {
        var results = new List<MetricValidationResult>();
        foreach (var (name, t) in thresholds)
        {
            if (!candidate.TryGetValue(name, out var c))
            {
                results.Add(new MetricValidationResult(name, null, null, t) { MissingCandidate = true });
                continue;
            }
            double? b = baseline != null && baseline.TryGetValue(name, out var bv) ? bv : null;
            var r = new MetricValidationResult(name, c, b, t);
            bool Better(decimal x, decimal y) => t.GreaterIsBetter ? x >= y : x <= y;
            if (t.Threshold is double limit) r = r with { ThresholdFailed = !(t.GreaterIsBetter ? c >= limit : c <= limit) };
            if ((t.MinRelativeChange is > 0 || t.MinAbsoluteChange is > 0) && b == null)
            {
                results.Add(r with { MissingBaseline = true });
                continue;
            }
            if (t.MinAbsoluteChange is double abs && b is double ba)
                r = r with { MinAbsoluteChangeFailed = !Better(ToDecimal(c), ToDecimal(t.GreaterIsBetter ? ba + abs : ba - abs)) };
            if (t.MinRelativeChange is double rel && b is double br)
            {
                if (br == 0)
                {
                    warn?.Invoke($"Cannot perform relative model comparison for metric {name} as baseline metric value is 0. Falling back to " +
                        "simple comparison: verifying that candidate metric value is better than the baseline metric value.");
                    r = r with { MinRelativeChangeFailed = !Better(ToDecimal(c), ToDecimal(t.GreaterIsBetter ? br + 1e-10 : br - 1e-10)) };
                }
                else
                {
                    var change = t.GreaterIsBetter ? (c - br) / br : (br - c) / br;
                    r = r with { MinRelativeChangeFailed = change < rel };
                }
            }
            results.Add(r);
        }
        return results;
    }

    // Python's Decimal(float) is the float's exact value; .NET's decimal keeps 28-29 digits, which decides the same
    // comparisons for metric values (both sides come from the same double arithmetic).
    private static decimal ToDecimal(double d) =>
        double.IsFinite(d) && Math.Abs(d) < 7.9e28 ? (decimal)d : d > 0 ? decimal.MaxValue : decimal.MinValue;
}

/// <summary>Metric values as Python prints them: counts as integers, other values as <c>repr(float)</c>.</summary>
public static class MetricText
{
    /// <summary>The metrics that are counts (numpy integers in MLflow), printed and written without a fraction.</summary>
    public static readonly IReadOnlySet<string> Counts =
        new HashSet<string>(["example_count", "true_negatives", "false_positives", "false_negatives", "true_positives"], StringComparer.Ordinal);

    public static string Of(string metric, double? value) =>
        value is not double v ? "None"
        : Counts.Contains(metric) && v == Math.Floor(v) && Math.Abs(v) < 1e15 ? ((long)v).ToString(CultureInfo.InvariantCulture)
        : Of(v);

    public static string Of(double value) => PyRepr.Float(value) switch { "NaN" => "nan", "Infinity" => "inf", "-Infinity" => "-inf", var s => s };
}
