namespace MlModels.Core.Evaluation;

/// <summary>
/// The metrics MLflow's default evaluator logs for a regressor, as scikit-learn computes them (no sample weights),
/// from one pass over the rows in O(1) memory. Sums are kept in double-double, and the targets' sum of squares about
/// their mean is taken about the first target, so a million rows far from zero agree with scikit-learn's two-pass
/// numpy results to about the last digit. Not thread-safe.
/// </summary>
public sealed class RegressorMetrics
{
    /// <summary>numpy's finfo(float64).eps, the floor MAPE divides by (not .NET's double.Epsilon, the least subnormal).</summary>
    internal const double MachineEpsilon = 2.220446049250313E-16;

    private ExactSum _absoluteErrors;
    private ExactSum _squaredErrors;
    private ExactSum _percentageErrors;
    private ExactSum _targets;
    private ExactSum _shifted;        // sum of (target - first target)
    private ExactSum _shiftedSquares; // sum of (target - first target)^2
    private double _maxError;
    private double _firstTarget;
    private bool _constantTargets = true;

    /// <summary>The rows added so far.</summary>
    public long Count { get; private set; }

    /// <summary>Adds a row.</summary>
    /// <exception cref="EvaluationException">The target or the prediction is NaN or infinite (scikit-learn refuses them).</exception>
    public void Add(double target, double prediction)
    {
        long row = Count + 1;
        if (double.IsNaN(target))
            throw new EvaluationException($"Row {row}: the target is missing (NaN); MLflow refuses missing targets.")
            { Row = row, Column = "target" };
        if (!double.IsFinite(target))
            throw new EvaluationException($"Row {row}: the target is infinite; scikit-learn refuses it.") { Row = row, Column = "target" };
        if (double.IsNaN(prediction))
            throw new EvaluationException($"Row {row}: the prediction is NaN; scikit-learn's metrics refuse input that contains NaN.")
            { Row = row, Column = "prediction" };
        if (!double.IsFinite(prediction))
            throw new EvaluationException($"Row {row}: the prediction is infinite; scikit-learn refuses it.") { Row = row, Column = "prediction" };

        if (Count == 0) _firstTarget = target;
        else if (target != _firstTarget) _constantTargets = false;
        Count = row;

        // The error terms are rounded as numpy rounds them (y_true - y_pred, then its square); only the sums are exact.
        double error = target - prediction;
        double absolute = Math.Abs(error);
        _absoluteErrors.Add(absolute);
        _squaredErrors.Add(error * error);
        _percentageErrors.Add(absolute / Math.Max(Math.Abs(target), MachineEpsilon));
        if (absolute > _maxError) _maxError = absolute;
        _targets.Add(target);

        // target - first, exactly, as a pair of doubles; its square to ~106 bits (the smaller cross term is below that).
        var (d, dl) = ExactSum.TwoSum(target, -_firstTarget);
        _shifted.Add(d);
        _shifted.Add(dl);
        double square = d * d;
        _shiftedSquares.Add(square);
        _shiftedSquares.Add(Math.FusedMultiplyAdd(d, d, -square));
        _shiftedSquares.Add(2 * d * dl);
    }

    /// <summary>
    /// example_count, mean_absolute_error, mean_squared_error, root_mean_squared_error, sum_on_target, mean_on_target,
    /// r2_score, max_error and mean_absolute_percentage_error: MLflow's names in MLflow's order. r2_score is left out,
    /// with a warning, below two rows (scikit-learn answers NaN there).
    /// </summary>
    /// <exception cref="EvaluationException">No rows were added.</exception>
    public IReadOnlyDictionary<string, double> Compute(Action<string>? warn = null)
    {
        if (Count == 0) throw new EvaluationException("There are no rows to evaluate.");
        double n = Count;
        var metrics = new MetricValues();
        metrics.Add("example_count", n);
        metrics.Add("mean_absolute_error", ExactSum.Divide(_absoluteErrors, n).Value);
        double mse = ExactSum.Divide(_squaredErrors, n).Value;
        metrics.Add("mean_squared_error", mse);
        metrics.Add("root_mean_squared_error", Math.Sqrt(mse));
        metrics.Add("sum_on_target", _targets.Value);
        metrics.Add("mean_on_target", ExactSum.Divide(_targets, n).Value);
        if (Count < 2) warn?.Invoke("r2_score is left out: R^2 is not defined for fewer than two rows (scikit-learn answers NaN).");
        else metrics.Add("r2_score", R2());
        metrics.Add("max_error", _maxError);
        metrics.Add("mean_absolute_percentage_error", ExactSum.Divide(_percentageErrors, n).Value);
        return metrics;
    }

    /// <summary>scikit-learn's r2_score with force_finite: 1 when the predictions are exact, 0 when only the targets are constant.</summary>
    private double R2()
    {
        double residual = _squaredErrors.Value;
        double total;
        if (_constantTargets)
        {
            // numpy's mean of equal values can miss them by an ulp, and scikit-learn then divides by a tiny nonzero
            // total: reproduce that rounding rather than answer the exact 0.
            double mean = NumpyQuirks.PairwiseSumOfCopies(_firstTarget, Count) / Count;
            double deviation = _firstTarget - mean;
            total = NumpyQuirks.PairwiseSumOfCopies(deviation * deviation, Count);
        }
        else
        {
            total = (_shiftedSquares - ExactSum.Divide(ExactSum.Square(_shifted), Count)).Value;
        }
        if (residual == 0) return 1.0;
        if (total == 0) return 0.0;
        return 1 - (residual / total);
    }
}
