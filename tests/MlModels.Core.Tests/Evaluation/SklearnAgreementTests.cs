using System.Text.Json;
using MlModels.Core.Evaluation;

namespace MlModels.Core.Tests.Evaluation;

/// <summary>
/// Every metric, curve point and confusion count against scikit-learn 1.2.1 (Debian's), called as MLflow 2.12's
/// default evaluator calls it, to 1e-9 relative (1e-12 absolute near zero). A metric scikit-learn refuses is left out
/// here with a warning that names it; where scikit-learn warns of an ill-defined score, so do we.
/// </summary>
[Trait("Category", "Python")]
public sealed class SklearnAgreementTests(SklearnReference sklearn) : IClassFixture<SklearnReference>
{
    private static readonly string[] RegressorNames =
    [
        "example_count", "mean_absolute_error", "mean_squared_error", "root_mean_squared_error", "sum_on_target", "mean_on_target",
        "r2_score", "max_error", "mean_absolute_percentage_error",
    ];

    private static readonly string[] BinaryNames =
    [
        "example_count", "accuracy_score", "recall_score", "precision_score", "f1_score",
        "true_negatives", "false_positives", "false_negatives", "true_positives", "log_loss", "roc_auc", "precision_recall_auc",
    ];

    private static readonly string[] MulticlassNames =
        ["example_count", "accuracy_score", "recall_score", "precision_score", "f1_score", "log_loss", "roc_auc"];

    private static readonly string[] ProbabilityNames = ["log_loss", "roc_auc", "precision_recall_auc"];

    private static void RequireSklearn() =>
        Prerequisites.Require(Prerequisites.PythonHas("sklearn, numpy"), "Debian's python3-sklearn and python3-numpy");

    public static TheoryData<string> RegressionCases() => [.. EvaluationCases.Regression.Select(c => c.Name)];

    public static TheoryData<string> ClassificationCases() => [.. EvaluationCases.Classification.Select(c => c.Name)];

    [SkippableTheory]
    [MemberData(nameof(RegressionCases))]
    public void Regressor_MatchesSklearn(string name)
    {
        RequireSklearn();
        var c = EvaluationCases.RegressionCase(name);
        var metrics = new RegressorMetrics();
        for (int i = 0; i < c.Y.Length; i++) metrics.Add(c.Y[i], c.P[i]);
        var warnings = new List<string>();
        var ours = metrics.Compute(warnings.Add);
        AssertMetrics(name, sklearn.Regression(name), ours, warnings, RegressorNames, []);
    }

    [SkippableTheory]
    [MemberData(nameof(ClassificationCases))]
    public void Classifier_MatchesSklearn(string name)
    {
        RequireSklearn();
        var c = EvaluationCases.ClassificationCase(name);
        var expected = sklearn.Classification(name);
        var metrics = new ClassifierMetrics(c.Pos, c.Classes);
        for (int i = 0; i < c.Y.Length; i++) metrics.Add(c.Y[i], c.P[i], c.Proba == null ? [] : c.Proba[i]);

        Assert.Equal(Strings(expected.GetProperty("labels")), metrics.Labels);
        Assert.Equal(Strings(expected.GetProperty("unknown_predictions")), metrics.UnknownPredictionLabels.Order(StringComparer.Ordinal));
        AssertConfusion(expected.GetProperty("confusion"), metrics.ConfusionMatrix());

        bool binary = metrics.Labels.Count <= 2;
        Assert.Equal(binary, metrics.IsBinary);
        if (expected.GetProperty("errors").TryGetProperty("recall_score", out var refusal))
        {
            // scikit-learn refuses binary scores over three labels; so do we, naming them.
            var e = Assert.Throws<EvaluationException>(() => metrics.Compute());
            foreach (var label in Strings(expected.GetProperty("confusion").GetProperty("labels"))) Assert.Contains($"'{label}'", e.Message);
            Assert.Contains("average='binary'", refusal.GetString());
            return;
        }

        var names = (binary ? BinaryNames : MulticlassNames).Where(n => c.Proba != null || !ProbabilityNames.Contains(n)).ToArray();
        // With targets of one class, a precision-recall curve has no negatives to rank: MLflow's areas are left out.
        string[] leftOutByDesign = metrics.Labels.Count < 2 && c.Proba != null ? ["precision_recall_auc"] : [];
        var warnings = new List<string>();
        var ours = metrics.Compute(warnings.Add);
        AssertMetrics(name, expected, ours, warnings, names, leftOutByDesign);

        if (c.Curves)
        {
            AssertCurves(expected.GetProperty("roc"), metrics.RocCurves());
            AssertCurves(expected.GetProperty("pr"), metrics.PrecisionRecallCurves());
        }
        if (c.Lift)
        {
            var lift = metrics.LiftCurve()!;
            AssertSeries(expected.GetProperty("lift").GetProperty("x"), lift.X, "lift x");
            AssertSeries(expected.GetProperty("lift").GetProperty("y"), lift.Y, "lift y");
            Assert.Equal($"Class {metrics.PositiveLabel}", lift.Label);
        }
    }

    [SkippableFact]
    public void Fixed3_FormatsAsPython()
    {
        RequireSklearn();
        var python = Strings(sklearn.Answers.GetProperty("fixed3"));
        Assert.Equal(python, EvaluationCases.Fixed3.Select(NumpyQuirks.Fixed3));
    }

    [SkippableFact]
    public void PairwiseSumOfCopies_IsNumpysSumBitForBit()
    {
        RequireSklearn();
        var numpy = sklearn.Answers.GetProperty("pairwise").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        for (int i = 0; i < numpy.Length; i++)
        {
            var (value, n) = EvaluationCases.Pairwise[i];
            double ours = NumpyQuirks.PairwiseSumOfCopies(value, n);
            Assert.True(numpy[i] == ours, $"{n} x {value}: numpy {numpy[i]:R}, ours {ours:R}");
        }
    }

    private static void AssertMetrics(
        string name, JsonElement expected, IReadOnlyDictionary<string, double> ours, List<string> warnings, string[] names, string[] leftOutByDesign)
    {
        var sk = expected.GetProperty("metrics");
        bool Computed(string metric) => sk.GetProperty(metric).ValueKind == JsonValueKind.Number && !leftOutByDesign.Contains(metric);
        Assert.Equal(names.Where(Computed), ours.Keys);
        foreach (var metric in names)
        {
            if (Computed(metric))
            {
                AssertClose(sk.GetProperty(metric).GetDouble(), ours[metric], $"{name}: {metric}");
                continue;
            }
            Assert.True(warnings.Any(w => w.Contains(metric, StringComparison.Ordinal)), $"{name}: {metric} left out without a warning naming it");
        }
        // scikit-learn's zero-division warnings (precision, recall and F-score set to 0.0) have ours beside them.
        var skWarnings = expected.GetProperty("warnings");
        foreach (var metric in new[] { "recall_score", "precision_score", "f1_score" })
        {
            if (!skWarnings.TryGetProperty(metric, out var list)) continue;
            bool skWarned = list.EnumerateArray().Any(w => w.GetString()!.Contains("ill-defined", StringComparison.Ordinal));
            bool weWarned = warnings.Any(w => w.StartsWith(metric + " is ill-defined", StringComparison.Ordinal));
            Assert.True(skWarned == weWarned, $"{name}: {metric}: scikit-learn warned {skWarned}, we {weWarned} ({string.Join(" | ", warnings)})");
        }
    }

    private static void AssertConfusion(JsonElement expected, ConfusionMatrix ours)
    {
        Assert.Equal(Strings(expected.GetProperty("labels")), ours.Labels);
        var counts = Rows(expected.GetProperty("counts"), v => v.GetInt64());
        var normalized = Rows(expected.GetProperty("normalized"), v => v.GetDouble());
        var ourNormalized = ours.Normalized();
        Assert.Equal(counts.Length, ours.Counts.GetLength(0));
        for (int i = 0; i < counts.Length; i++)
        {
            for (int j = 0; j < counts.Length; j++)
            {
                Assert.Equal(counts[i][j], ours.Counts[i, j]);
                AssertClose(normalized[i][j], ourNormalized[i, j], $"normalized[{i},{j}]");
            }
        }
    }

    private static void AssertCurves(JsonElement expected, IReadOnlyList<Curve> ours)
    {
        Assert.Equal(expected.GetArrayLength(), ours.Count);
        int i = 0;
        foreach (var curve in expected.EnumerateArray())
        {
            var label = curve.GetProperty("label").GetString();
            Assert.Equal(label, ours[i].Label);
            AssertSeries(curve.GetProperty("x"), ours[i].X, $"{label} x");
            AssertSeries(curve.GetProperty("y"), ours[i].Y, $"{label} y");
            AssertClose(curve.GetProperty("auc").GetDouble(), ours[i].Auc!.Value, $"{label} area");
            i++;
        }
    }

    private static void AssertSeries(JsonElement expected, double[] ours, string what)
    {
        var values = expected.EnumerateArray().Select(v => v.GetDouble()).ToArray();
        Assert.True(values.Length == ours.Length, $"{what}: scikit-learn has {values.Length} points, ours {ours.Length}");
        for (int i = 0; i < values.Length; i++) AssertClose(values[i], ours[i], $"{what}[{i}]");
    }

    private static void AssertClose(double expected, double actual, string what)
    {
        double tolerance = Math.Max(1e-9 * Math.Max(Math.Abs(expected), Math.Abs(actual)), 1e-12);
        Assert.True(Math.Abs(expected - actual) <= tolerance, $"{what}: scikit-learn {expected:R}, ours {actual:R}");
    }

    private static T[][] Rows<T>(JsonElement matrix, Func<JsonElement, T> value) =>
        [.. matrix.EnumerateArray().Select(row => row.EnumerateArray().Select(value).ToArray())];

    private static string[] Strings(JsonElement array) => [.. array.EnumerateArray().Select(e => e.GetString()!)];
}
