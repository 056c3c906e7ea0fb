using System.Numerics;
using MlModels.Core.Evaluation;

namespace MlModels.Core.Tests.Evaluation;

/// <summary>What the metrics refuse, leave out and say, and label keys and their order: no Python needed.</summary>
[Trait("Category", "Fast")]
public class EvaluationBehaviourTests
{
    public static TheoryData<object, string> Keys() => new()
    {
        { 1, "1" }, { 1L, "1" }, { 1.0, "1" }, { 1.0f, "1" }, { 1m, "1" }, { (byte)1, "1" }, { "1", "1" }, { "1.0", "1" }, { "+1", "1" },
        { "1e0", "1" }, { "001", "1" }, { 0.0, "0" }, { -0.0, "0" }, { "-0.0", "0" }, { 2.5, "2.5" }, { "2.50", "2.5" }, { 2.50m, "2.5" }, { 2.00m, "2" },
        { 2.5f, "2.5" }, { 0.1f, "0.1" }, { 1e-5, "1E-05" }, { "1e-5", "1E-05" }, { -3, "-3" }, { "-3.0", "-3" },
        { 1e20, "100000000000000000000" }, { "1e20", "100000000000000000000" }, { long.MaxValue, "9223372036854775807" },
        { "9223372036854775807", "9223372036854775807" }, { new BigInteger(ulong.MaxValue) * 10, "184467440737095516150" },
        { true, "True" }, { false, "False" }, { "cat", "cat" }, { "", "" }, { " 1", " 1" }, { "1,5", "1,5" }, { "0x10", "0x10" },
        { double.NaN, "NaN" }, { double.PositiveInfinity, "Infinity" },
    };

    [Theory]
    [MemberData(nameof(Keys))]
    public void LabelKey_WritesNumbersOneWay(object value, string key) => Assert.Equal(key, LabelKey.Of(value));

    [Fact]
    public void LabelKey_RefusesNull()
    {
        Assert.Throws<ArgumentException>(() => LabelKey.Of(null));
        Assert.Throws<ArgumentException>(() => LabelKey.Of(DBNull.Value));
    }

    [Fact]
    public void Labels_SortNumericallyWhenAllAreNumbers_ElseByCodePoint()
    {
        Assert.Equal(["-1", "2", "2.5", "10", "100"], LabelsOf("10", "2", "100", "-1", "2.5"));
        Assert.Equal(["9223372036854775806", "9223372036854775807"], LabelsOf("9223372036854775807", "9223372036854775806"));
        Assert.Equal(["10", "2", "b"], LabelsOf("b", "2", "10"));
        // Python orders str by code point: U+FF01 comes before U+1F600, whose UTF-16 surrogates sort first ordinally.
        Assert.Equal(["a", "\uFF01", "\U0001F600"], LabelsOf("\U0001F600", "\uFF01", "a"));
    }

    [Fact]
    public void Labels_AreTheTargets_AndNumbersOfAnySpellingAreOne()
    {
        var m = new ClassifierMetrics(null, null);
        m.Add("1.0", "1", []);
        m.Add("0", "0.0", []);
        m.Add("1", "2", []);
        Assert.Equal(["0", "1"], m.Labels);
        Assert.True(m.IsBinary);
        Assert.Equal("1", m.PositiveLabel);
        Assert.Equal(["2"], m.UnknownPredictionLabels);
        Assert.Equal(["0", "1", "2"], m.ConfusionMatrix().Labels);
    }

    [Fact]
    public void Regressor_RefusesNaNTarget_NamingTheRow_AndKeepsWhatItHad()
    {
        var m = new RegressorMetrics();
        m.Add(1, 1.5);
        m.Add(2, 2.5);
        var e = Assert.Throws<EvaluationException>(() => m.Add(double.NaN, 3));
        Assert.Equal(3, e.Row);
        Assert.Equal("target", e.Column);
        Assert.Contains("Row 3", e.Message);
        Assert.Equal(2, m.Count);
        Assert.Equal(0.5, m.Compute()["mean_absolute_error"]);

        e = Assert.Throws<EvaluationException>(() => m.Add(3, double.NaN));
        Assert.Equal((3, "prediction"), (e.Row, e.Column));
        e = Assert.Throws<EvaluationException>(() => m.Add(double.PositiveInfinity, 3));
        Assert.Equal((3, "target"), (e.Row, e.Column));
        e = Assert.Throws<EvaluationException>(() => m.Add(3, double.NegativeInfinity));
        Assert.Equal((3, "prediction"), (e.Row, e.Column));
    }

    [Fact]
    public void Regressor_WithoutRows_Refuses_AndWithOneRow_LeavesOutR2()
    {
        var m = new RegressorMetrics();
        Assert.Throws<EvaluationException>(() => m.Compute());
        m.Add(3, 2.5);
        var warnings = new List<string>();
        var metrics = m.Compute(warnings.Add);
        Assert.False(metrics.ContainsKey("r2_score"));
        Assert.Contains(warnings, w => w.StartsWith("r2_score is left out", StringComparison.Ordinal));
        Assert.Equal(
            ["example_count", "mean_absolute_error", "mean_squared_error", "root_mean_squared_error", "sum_on_target", "mean_on_target",
                "max_error", "mean_absolute_percentage_error"],
            metrics.Keys);
    }

    [Fact]
    public void Regressor_StaysExact_FarFromZero()
    {
        // 1e15 + {0, 1, 2}: exact doubles whose squares a one-pass sum of squares loses entirely (ulp of 1e30 is 1.4e14).
        // Total sum of squares 2n/3, residual n/4: r2 is 1 - 0.375 exactly.
        var m = new RegressorMetrics();
        const int N = 300_000;
        for (int i = 0; i < N; i++) m.Add(1e15 + (i % 3), 1e15 + (i % 3) + 0.5);
        var metrics = m.Compute();
        Assert.Equal(0.625, metrics["r2_score"]);
        Assert.Equal(0.25, metrics["mean_squared_error"]);
        Assert.Equal(0.5, metrics["mean_absolute_error"]);
        Assert.Equal(1e15 + 1, metrics["mean_on_target"]);
        Assert.Equal(N * (1e15 + 1), metrics["sum_on_target"]);
    }

    [Fact]
    public void Classifier_RefusesMissingTargetsAndPredictions_NamingTheRow()
    {
        var m = new ClassifierMetrics(null, null);
        m.Add("a", "a", []);
        foreach (var missing in new[] { null!, "", "NaN", "nan", LabelKey.Of(double.NaN) })
        {
            var e = Assert.Throws<EvaluationException>(() => m.Add(missing, "a", []));
            Assert.Equal((2, "target"), (e.Row, e.Column));
            e = Assert.Throws<EvaluationException>(() => m.Add("a", missing, []));
            Assert.Equal((2, "prediction"), (e.Row, e.Column));
        }
        var inf = Assert.Throws<EvaluationException>(() => m.Add("Infinity", "a", []));
        Assert.Equal((2, "target"), (inf.Row, inf.Column));
        Assert.Equal(1, m.Count);
        Assert.Equal(["a"], m.Labels);
    }

    [Fact]
    public void Classifier_RefusesProbabilitiesThatDoNotFitTheClasses()
    {
        var m = new ClassifierMetrics(null, ["0", "1"]);
        m.Add("0", "0", [0.9, 0.1]);
        Assert.Equal((2L, "probabilities"), Refusal(() => m.Add("1", "1", [1.0])));
        Assert.Equal((2L, "probabilities"), Refusal(() => m.Add("1", "1", [])));
        Assert.Equal((2L, "probabilities"), Refusal(() => m.Add("1", "1", [double.NaN, 1])));
        Assert.Equal((1L, "probabilities"), Refusal(() => new ClassifierMetrics(null, null).Add("1", "1", [0.5, 0.5])));
        Assert.Equal(1, m.Count);
        Assert.Throws<ArgumentException>(() => new ClassifierMetrics(null, ["1", "1.0"]));
    }

    [Fact]
    public void Binary_WithAThirdLabelAmongThePredictions_Refuses_NamingTheLabels()
    {
        var m = new ClassifierMetrics(null, null);
        m.Add("no", "no", []);
        m.Add("yes", "maybe", []);
        Assert.True(m.IsBinary);
        var e = Assert.Throws<EvaluationException>(() => m.Compute());
        Assert.Contains("'maybe', 'no', 'yes'", e.Message);
        Assert.Null(e.Row);
    }

    [Fact]
    public void Binary_WithAPositiveLabelNeitherTargetNorPrediction_Refuses()
    {
        var m = new ClassifierMetrics("z", null);
        m.Add("a", "a", []);
        m.Add("b", "a", []);
        Assert.Equal("z", m.PositiveLabel);
        Assert.Contains("'a', 'b'", Assert.Throws<EvaluationException>(() => m.Compute()).Message);
    }

    [Fact]
    public void Binary_NamesMetricsInMlflowsOrder()
    {
        var m = new ClassifierMetrics(null, ["a", "b"]);
        m.Add("a", "a", [0.8, 0.2]);
        m.Add("b", "a", [0.6, 0.4]);
        m.Add("b", "b", [0.3, 0.7]);
        Assert.Equal(
            ["example_count", "accuracy_score", "recall_score", "precision_score", "f1_score", "true_negatives", "false_positives",
                "false_negatives", "true_positives", "log_loss", "roc_auc", "precision_recall_auc"],
            m.Compute().Keys);
        var metrics = m.Compute();
        Assert.Equal(1.0, metrics["roc_auc"]);
        Assert.Equal((1.0, 0.0, 1.0, 1.0), ConfusionCounts(metrics));
    }

    [Fact]
    public void Binary_ConfusionCounts_FollowSortedLabels_NotThePositiveOne()
    {
        var m = new ClassifierMetrics("a", null);
        m.Add("a", "a", []);
        m.Add("a", "b", []);
        m.Add("b", "b", []);
        m.Add("b", "b", []);
        var metrics = m.Compute();
        // ravel() of [[a->a, a->b], [b->a, b->b]], whichever label is positive.
        Assert.Equal((1.0, 1.0, 0.0, 2.0), ConfusionCounts(metrics));
        Assert.Equal(0.5, metrics["recall_score"]); // of "a"
        Assert.Equal(1.0, metrics["precision_score"]);
    }

    [Fact]
    public void OneTargetClass_LeavesOutTheProbabilityMetrics_WithAWarning()
    {
        var m = new ClassifierMetrics(null, ["0", "1"]);
        m.Add("1", "1", [0.2, 0.8]);
        m.Add("1", "0", [0.7, 0.3]);
        var warnings = new List<string>();
        var metrics = m.Compute(warnings.Add);
        foreach (var name in new[] { "log_loss", "roc_auc", "precision_recall_auc" })
        {
            Assert.False(metrics.ContainsKey(name));
            Assert.Contains(warnings, w => w.Contains(name, StringComparison.Ordinal) && w.Contains("one class only", StringComparison.Ordinal));
        }
        Assert.Empty(m.RocCurves());
        Assert.Empty(m.PrecisionRecallCurves());
        Assert.Null(m.LiftCurve());
        Assert.Equal(4, m.ConfusionMatrix().Counts.Length);
    }

    [Fact]
    public void MoreProbabilityColumnsThanLabels_LeavesOutLogLoss_AndKeepsRocAucOfThePositiveColumn()
    {
        // A model of three classes scored on targets of two: log_loss wants a column per label; the AUC needs only the
        // positive's column, and comes out as it does from a model of those two classes.
        var wide = new ClassifierMetrics(null, ["a", "b", "c"]);
        var narrow = new ClassifierMetrics(null, ["a", "b"]);
        var r = new Random(5);
        for (int i = 0; i < 200; i++)
        {
            double pb = r.NextDouble();
            string target = r.NextDouble() < pb ? "b" : "a";
            wide.Add(target, pb > 0.5 ? "b" : "a", [(1 - pb) / 2, pb, (1 - pb) / 2]);
            narrow.Add(target, pb > 0.5 ? "b" : "a", [1 - pb, pb]);
        }
        var warnings = new List<string>();
        var w = wide.Compute(warnings.Add);
        var n = narrow.Compute();
        Assert.False(w.ContainsKey("log_loss"));
        Assert.Contains(warnings, x => x.StartsWith("log_loss is left out", StringComparison.Ordinal));
        Assert.Equal(n["roc_auc"], w["roc_auc"]);
        Assert.Equal(n["precision_recall_auc"], w["precision_recall_auc"]);
        Assert.Equal(narrow.RocCurves()[0].X, wide.RocCurves()[0].X);
    }

    [Fact]
    public void Multiclass_WithTwoProbabilityColumns_LeavesOutLogLossAndRocAuc()
    {
        var m = new ClassifierMetrics(null, ["a", "b"]);
        m.Add("a", "a", [0.9, 0.1]);
        m.Add("b", "b", [0.2, 0.8]);
        m.Add("c", "b", [0.5, 0.5]);
        var warnings = new List<string>();
        var metrics = m.Compute(warnings.Add);
        Assert.Equal(["example_count", "accuracy_score", "recall_score", "precision_score", "f1_score"], metrics.Keys);
        Assert.Contains(warnings, x => x.StartsWith("log_loss is left out", StringComparison.Ordinal));
        Assert.Contains(warnings, x => x.StartsWith("roc_auc is left out", StringComparison.Ordinal));
        Assert.Empty(m.RocCurves());
    }

    [Fact]
    public void ConfusionMatrix_NormalizesRows_LeavingRowsOfNoTargetsAtZero()
    {
        var m = new ClassifierMetrics(null, null);
        m.Add("a", "a", []);
        m.Add("a", "c", []);
        m.Add("b", "b", []);
        m.Add("b", "c", []);
        m.Add("b", "c", []);
        var cm = m.ConfusionMatrix();
        Assert.Equal(["a", "b", "c"], cm.Labels);
        Assert.Equal(new long[,] { { 1, 0, 1 }, { 0, 1, 2 }, { 0, 0, 0 } }, cm.Counts);
        Assert.Equal(new[,] { { 0.5, 0, 0.5 }, { 0, 1 / 3.0, 2 / 3.0 }, { 0, 0, 0 } }, cm.Normalized());
    }

    [Theory]
    [InlineData(0.0625, "0.062")]
    [InlineData(0.1875, "0.188")]
    [InlineData(0.1235, "0.123")] // the double is just below 0.1235
    [InlineData(0.9995, "1.000")] // the double is just above 0.9995
    [InlineData(1.0, "1.000")]
    [InlineData(0.0, "0.000")]
    [InlineData(12.3456, "12.346")]
    public void Fixed3_RoundsAsPython(double value, string text) => Assert.Equal(text, NumpyQuirks.Fixed3(value));

    private static IReadOnlyList<string> LabelsOf(params string[] targets)
    {
        var m = new ClassifierMetrics(null, null);
        foreach (var t in targets) m.Add(t, t, []);
        return m.Labels;
    }

    private static (double, double, double, double) ConfusionCounts(IReadOnlyDictionary<string, double> m) =>
        (m["true_negatives"], m["false_positives"], m["false_negatives"], m["true_positives"]);

    private static (long?, string?) Refusal(Action add)
    {
        var e = Assert.Throws<EvaluationException>(add);
        return (e.Row, e.Column);
    }
}
