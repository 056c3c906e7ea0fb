using MlModels.Core.Evaluation;

namespace MlModels.Core.Tests.Evaluation;

/// <summary>
/// MLflow's model validation (mlflow/models/evaluation/validation.py of MLflow 2.x: MetricThreshold, _validate and
/// _MetricValidationResult's messages), rule by rule.
/// </summary>
[Trait("Category", "Fast")]
public class ModelValidationTests
{
    private static IReadOnlyList<MetricValidationResult> Validate(string metric, MetricThreshold t, double? candidate, double? baseline,
        List<string>? warnings = null)
    {
        var c = new Dictionary<string, double>();
        if (candidate is double cv) c[metric] = cv;
        Dictionary<string, double>? b = null;
        if (baseline is double bv) b = new Dictionary<string, double> { [metric] = bv };
        return ModelValidation.Validate([KeyValuePair.Create(metric, t)], c, b, warnings == null ? null : warnings.Add);
    }

    [Theory]
    [InlineData(0.8, 0.8, true, true)]   // >= for greater-is-better
    [InlineData(0.79, 0.8, true, false)]
    [InlineData(0.5, 0.5, false, true)]  // <= for lower-is-better
    [InlineData(0.51, 0.5, false, false)]
    public void Threshold_ComparesInTheMetricsDirection(double value, double threshold, bool greater, bool passes)
    {
        var r = Assert.Single(Validate("m", new MetricThreshold { Threshold = threshold, GreaterIsBetter = greater }, value, null));
        Assert.Equal(passes, r.Passed);
        Assert.Equal(!passes, r.ThresholdFailed);
    }

    [Fact]
    public void AbsoluteChange_IsMeasuredFromTheBaseline_InTheMetricsDirection()
    {
        var higher = new MetricThreshold { MinAbsoluteChange = 0.05, GreaterIsBetter = true };
        Assert.True(Validate("m", higher, 0.85, 0.8)[0].Passed);
        Assert.True(Validate("m", higher, 0.84, 0.8)[0].MinAbsoluteChangeFailed);
        var lower = new MetricThreshold { MinAbsoluteChange = 0.1, GreaterIsBetter = false };
        Assert.True(Validate("m", lower, 0.4, 0.5)[0].Passed);
        Assert.True(Validate("m", lower, 0.41, 0.5)[0].MinAbsoluteChangeFailed);
    }

    [Fact]
    public void RelativeChange_IsAShareOfTheBaseline_AndAZeroBaselineFallsBackToBetterBy1e10()
    {
        var t = new MetricThreshold { MinRelativeChange = 0.1, GreaterIsBetter = true };
        Assert.True(Validate("m", t, 0.55, 0.5)[0].Passed);
        Assert.True(Validate("m", t, 0.54, 0.5)[0].MinRelativeChangeFailed);
        var lower = new MetricThreshold { MinRelativeChange = 0.1, GreaterIsBetter = false };
        Assert.True(Validate("m", lower, 0.44, 0.5)[0].Passed); // (0.5 - 0.45) / 0.5 is 0.0999... in floats, as in Python
        Assert.True(Validate("m", lower, 0.46, 0.5)[0].MinRelativeChangeFailed);

        var warnings = new List<string>();
        Assert.True(Validate("m", t, 1e-9, 0, warnings)[0].Passed);
        Assert.True(Validate("m", t, 0, 0, warnings)[0].MinRelativeChangeFailed);
        Assert.Contains("Cannot perform relative model comparison for metric m as baseline metric value is 0.", warnings[0]);
    }

    [Fact]
    public void MissingMetrics_FailWithMlflowsWords()
    {
        var t = new MetricThreshold { Threshold = 0.5, MinAbsoluteChange = 0.1, GreaterIsBetter = true };
        var missing = Validate("roc_auc", t, null, 0.7)[0];
        Assert.Equal("Metric validation failed: metric roc_auc was missing from the evaluation result of the candidate model.", missing.ToString());
        var noBaseline = Validate("roc_auc", t, 0.4, null)[0];
        Assert.Equal("Metric roc_auc value threshold check failed: candidate model roc_auc = 0.4, roc_auc threshold = 0.5. Model comparison failed: " +
            "metric roc_auc was missing from the evaluation result of the baseline model.", noBaseline.ToString());
    }

    [Fact]
    public void FailureMessage_HasOneLinePerFailedMetric_InMlflowsWords()
    {
        var thresholds = new List<KeyValuePair<string, MetricThreshold>>
        {
            KeyValuePair.Create("accuracy_score", new MetricThreshold { Threshold = 0.9, MinAbsoluteChange = 0.05, GreaterIsBetter = true }),
            KeyValuePair.Create("log_loss", new MetricThreshold { MinRelativeChange = 0.1, GreaterIsBetter = false }),
            KeyValuePair.Create("f1_score", new MetricThreshold { Threshold = 0.1, GreaterIsBetter = true }),
        };
        var candidate = new Dictionary<string, double> { ["accuracy_score"] = 0.8333333333333334, ["log_loss"] = 0.5, ["f1_score"] = 0.7 };
        var baseline = new Dictionary<string, double> { ["accuracy_score"] = 0.8, ["log_loss"] = 0.52, ["f1_score"] = 0.6 };
        var results = ModelValidation.Validate(thresholds, candidate, baseline);
        var ex = new ModelValidationFailedException(results.Where(r => !r.Passed).ToList());
        Assert.Equal(string.Join(Environment.NewLine,
            "Metric accuracy_score value threshold check failed: candidate model accuracy_score = 0.8333333333333334, accuracy_score threshold = 0.9. " +
                "Metric accuracy_score minimum absolute change check failed: candidate model accuracy_score = 0.8333333333333334, baseline model " +
                "accuracy_score = 0.8, accuracy_score minimum absolute change threshold = 0.05.",
            "Metric log_loss minimum relative change check failed: candidate model log_loss = 0.5, baseline model log_loss = 0.52, log_loss minimum " +
                "relative change threshold = 0.1."), ex.Message);
        Assert.True(results[2].Passed);
        Assert.Equal("Metric f1_score passed the validation.", results[2].ToString());
    }

    [Fact]
    public void Counts_ArePrintedAsIntegers_AsNumpyIntegersAre()
    {
        var r = Validate("true_positives", new MetricThreshold { Threshold = 50, GreaterIsBetter = true }, 42, null)[0];
        Assert.Equal("Metric true_positives value threshold check failed: candidate model true_positives = 42, true_positives threshold = 50.0.",
            r.ToString());
    }

    [Theory]
    [InlineData(null, null, null, "no threshold was specified.")]
    [InlineData(null, -0.1, null, "`min_absolute_change` parameter must be a positive number.")]
    [InlineData(null, 0.0, null, "`min_absolute_change` parameter must be a positive number.")]
    [InlineData(null, null, 1.5, "`min_relative_change` parameter must be between 0 and 1.")]
    public void Check_RefusesWhatMlflowsMetricThresholdRefuses(double? threshold, double? absolute, double? relative, string problem)
    {
        var t = new MetricThreshold { Threshold = threshold, MinAbsoluteChange = absolute, MinRelativeChange = relative, GreaterIsBetter = true };
        var ex = Assert.Throws<EvaluationException>(() => t.Check("accuracy_score"));
        Assert.EndsWith(problem, ex.Message);
        Assert.Equal("accuracy_score", ex.Column);
    }

    [Fact]
    public void CheckThresholds_RefusesUnknownNames_ListingTheKnownOnes_AndChangeRulesWithoutABaseline()
    {
        var unknown = Assert.Throws<EvaluationException>(() => EvaluationJob.CheckThresholds(
            [KeyValuePair.Create("accuracy", new MetricThreshold { Threshold = 1, GreaterIsBetter = true })], EvaluationModelType.Classifier, false));
        Assert.Contains("accuracy_score, recall_score", unknown.Message);
        var noBaseline = Assert.Throws<EvaluationException>(() => EvaluationJob.CheckThresholds(
            [KeyValuePair.Create("r2_score", new MetricThreshold { MinRelativeChange = 0.1, GreaterIsBetter = true })], EvaluationModelType.Regressor, false));
        Assert.Contains("baseline", noBaseline.Message);
        EvaluationJob.CheckThresholds([KeyValuePair.Create("r2_score", new MetricThreshold { MinRelativeChange = 0.1, GreaterIsBetter = true })],
            EvaluationModelType.Regressor, true);
    }
}
