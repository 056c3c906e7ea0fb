using System.Globalization;

namespace MlModels.Core.Tests.Evaluation;

public sealed record RegressionCase(string Name, double[] Y, double[] P);

/// <param name="Classes">The probability columns' labels; null with <paramref name="Proba"/> when the model gives none.</param>
/// <param name="Curves">Whether to compare the ROC, precision-recall and lift points too.</param>
public sealed record ClassificationCase(string Name, string[] Y, string[] P, string[]? Classes, double[][]? Proba, string? Pos, bool Curves = false)
{
    public bool Lift { get; init; }
}

/// <summary>The data sets the evaluation metrics are checked on against scikit-learn, made from fixed seeds.</summary>
public static class EvaluationCases
{
    public static IReadOnlyList<RegressionCase> Regression { get; } = MakeRegression();

    public static IReadOnlyList<ClassificationCase> Classification { get; } = MakeClassification();

    /// <summary>Values whose f"{x:.3f}" tells half-to-even rounding of the exact value from .NET's.</summary>
    public static double[] Fixed3 { get; } = [0.0625, 0.1875, 0.3125, 0.9375, 0.1235, 0.0005, 0.9995, 1.0, 0.5, 0.123456, 2.0 / 3, 0.0, 0.99951];

    /// <summary>Sizes and values of constant arrays whose numpy sum is checked bit for bit.</summary>
    public static (double Value, long N)[] Pairwise { get; } =
        [(0.1, 3), (0.1, 8), (0.1, 129), (0.3, 1000), (0.7, 4099), (1e9 + 0.1, 4099), (0.1, 100_003), (1.0 / 3, 1_000_000)];

    public static RegressionCase RegressionCase(string name) => Regression.Single(c => c.Name == name);

    public static ClassificationCase ClassificationCase(string name) => Classification.Single(c => c.Name == name);

    private static List<RegressionCase> MakeRegression()
    {
        var cases = new List<RegressionCase>();
        {
            var r = new Random(1);
            var y = Enumerable.Range(0, 1000).Select(_ => 50 + (10 * Normal(r))).ToArray();
            cases.Add(new("basic", y, y.Select(v => v + (3 * Normal(r))).ToArray()));
        }
        {
            // Far from zero, with a drift: what breaks a naive sum of squares or an uncompensated mean.
            var r = new Random(2);
            var y = Enumerable.Range(0, 200_000).Select(i => 1e9 + (0.01 * i) + Normal(r)).ToArray();
            cases.Add(new("large-offset-200k", y, y.Select(v => v + (0.1 * Normal(r))).ToArray()));
        }
        {
            // Zeros (MAPE divides by eps there) and many equal targets and exact predictions.
            var r = new Random(3);
            double[] values = [0, 0, 0, 1, 2, 3];
            var y = Enumerable.Range(0, 500).Select(_ => values[r.Next(values.Length)]).ToArray();
            var p = y.Select(v => r.NextDouble() < 0.3 ? v : v + Math.Round(Normal(r), 1)).ToArray();
            cases.Add(new("zeros-and-ties", y, p));
        }
        {
            var r = new Random(4);
            var y = Enumerable.Range(0, 300).Select(_ => -20 + (5 * Normal(r))).ToArray();
            cases.Add(new("negative-targets", y, y.Select(v => (0.8 * v) + Normal(r)).ToArray()));
        }
        // Constant targets: numpy's mean misses the constant by an ulp for some sizes, and r2_score then divides by a
        // tiny total instead of answering 0.
        foreach (var (value, n) in new[] { (0.1, 3), (0.1, 10), (0.3, 129), (0.7, 1000), (1e9 + 0.1, 4099) })
        {
            var y = Enumerable.Repeat(value, n).ToArray();
            var p = (double[])y.Clone();
            p[0] += 1;
            cases.Add(new($"constant-{value.ToString(CultureInfo.InvariantCulture)}-x{n}", y, p));
        }
        cases.Add(new("perfect", [1, 2, 3, 4.5], [1, 2, 3, 4.5]));
        cases.Add(new("one-row", [3], [2.5]));
        return cases;
    }

    private static List<ClassificationCase> MakeClassification()
    {
        var cases = new List<ClassificationCase>();
        {
            var (y, p, proba) = Binary(new Random(11), 600, "0", "1", s => s);
            cases.Add(new("binary", y, p, ["0", "1"], proba, null, Curves: true) { Lift = true });
        }
        {
            // Scores on a 0.1 grid: many thresholds shared by several rows.
            var (y, p, proba) = Binary(new Random(12), 400, "0", "1", s => Math.Round(s, 1));
            cases.Add(new("binary-tied-scores", y, p, ["0", "1"], proba, null, Curves: true));
        }
        {
            // String labels, the positive one first in sorted order (not MLflow's default, the last).
            var (y, p, proba) = Binary(new Random(13), 300, "dog", "cat", s => s);
            cases.Add(new("binary-strings-positive-given", y, p, ["cat", "dog"], SwapColumns(proba), "cat", Curves: true) { Lift = true });
        }
        {
            var r = new Random(14);
            var y = Enumerable.Range(0, 50).Select(_ => r.Next(2).ToString(CultureInfo.InvariantCulture)).ToArray();
            var proba = y.Select(_ => Pair(r.NextDouble())).ToArray();
            cases.Add(new("binary-no-positive-predictions", y, [.. y.Select(_ => "0")], ["0", "1"], proba, null));
        }
        {
            var r = new Random(15);
            var p = Enumerable.Range(0, 40).Select(_ => r.Next(2).ToString(CultureInfo.InvariantCulture)).ToArray();
            var proba = p.Select(_ => Pair(r.NextDouble())).ToArray();
            cases.Add(new("binary-one-target-class", [.. p.Select(_ => "1")], p, ["0", "1"], proba, null));
        }
        cases.Add(new("binary-one-label-only", [.. Enumerable.Repeat("yes", 12)], [.. Enumerable.Repeat("yes", 12)], null, null, null));
        {
            var (y, p, proba) = Binary(new Random(16), 80, "0", "1", s => s);
            p[7] = "2";
            cases.Add(new("binary-unknown-prediction", y, p, ["0", "1"], proba, null));
        }
        {
            var (y, p, proba) = Multiclass(new Random(21), 900, ["0", "1", "2"]);
            cases.Add(new("multiclass", y, p, ["0", "1", "2"], proba, null, Curves: true));
        }
        {
            // Numbers whose string order ("-1" < "10" < "100" < "2") is not their numeric order. (Not 2.5: scikit-learn
            // takes floats that are not integers for a regression target and refuses them.)
            var (y, p, proba) = Multiclass(new Random(22), 700, ["-1", "2", "10", "100"]);
            cases.Add(new("multiclass-numeric-labels", y, p, ["-1", "2", "10", "100"], proba, null, Curves: true));
        }
        {
            var (y, p, proba) = Multiclass(new Random(23), 300, ["a", "b", "c"]);
            for (int i = 0; i < p.Length; i++) if (p[i] == "c") p[i] = i % 2 == 0 ? "a" : "b";
            cases.Add(new("multiclass-class-never-predicted", y, p, ["a", "b", "c"], proba, null));
        }
        {
            var (y, p, _) = Multiclass(new Random(24), 300, ["a", "b", "c"]);
            for (int i = 0; i < p.Length; i += 17) p[i] = "d";
            cases.Add(new("multiclass-unknown-prediction", y, p, null, null, null));
        }
        {
            // Scores that are not probabilities: log_loss renormalises them, multiclass roc_auc refuses them.
            var (y, p, proba) = Multiclass(new Random(25), 200, ["x", "y", "z"]);
            foreach (var row in proba) row[0] *= 1.5;
            cases.Add(new("multiclass-rows-not-summing-to-one", y, p, ["x", "y", "z"], proba, null));
        }
        return cases;
    }

    private static (string[] Y, string[] P, double[][] Proba) Binary(Random r, int n, string negative, string positive, Func<double, double> score)
    {
        var y = new string[n];
        var p = new string[n];
        var proba = new double[n][];
        for (int i = 0; i < n; i++)
        {
            double x = Normal(r);
            y[i] = x + (0.8 * Normal(r)) > 0 ? positive : negative;
            double s = score(1 / (1 + Math.Exp(-2 * x)));
            proba[i] = Pair(s);
            p[i] = s > 0.5 ? positive : negative;
        }
        return (y, p, proba);
    }

    private static double[] Pair(double positive) => [1 - positive, positive];

    private static double[][] SwapColumns(double[][] proba) => [.. proba.Select(row => new[] { row[1], row[0] })];

    private static (string[] Y, string[] P, double[][] Proba) Multiclass(Random r, int n, string[] labels)
    {
        int k = labels.Length;
        var y = new string[n];
        var p = new string[n];
        var proba = new double[n][];
        for (int i = 0; i < n; i++)
        {
            int c = r.Next(k);
            y[i] = labels[c];
            var logits = Enumerable.Range(0, k).Select(j => Normal(r) + (j == c ? 1.5 : 0)).ToArray();
            double max = logits.Max();
            var e = logits.Select(l => Math.Exp(l - max)).ToArray();
            double sum = e.Sum();
            proba[i] = [.. e.Select(v => v / sum)];
            int best = Array.IndexOf(proba[i], proba[i].Max());
            p[i] = r.NextDouble() < 0.1 ? labels[r.Next(k)] : labels[best];
        }
        return (y, p, proba);
    }

    private static double Normal(Random r) => Math.Sqrt(-2 * Math.Log(1 - r.NextDouble())) * Math.Cos(2 * Math.PI * r.NextDouble());
}
