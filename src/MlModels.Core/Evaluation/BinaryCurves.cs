namespace MlModels.Core.Evaluation;

/// <summary>
/// scikit-learn 1.2's threshold curves over one score per row and whether the row is positive: roc_curve (with
/// drop_intermediate), precision_recall_curve (every threshold, then the point precision 1, recall 0), auc (the
/// trapezoid rule, either direction), average_precision_score, and scikit-plot's lift curve as MLflow draws it.
/// </summary>
internal sealed class BinaryCurves
{
    private readonly double[] _fps;
    private readonly double[] _tps;

    /// <summary>The counts at each distinct score, highest first (sklearn's _binary_clf_curve).</summary>
    public BinaryCurves(double[] scores, bool[] positive)
    {
        var keys = (double[])scores.Clone();
        var items = (bool[])positive.Clone();
        Array.Sort(keys, items);
        var fps = new List<double>();
        var tps = new List<double>();
        long truePositives = 0, seen = 0;
        for (int i = keys.Length - 1; i >= 0; i--)
        {
            seen++;
            if (items[i]) truePositives++;
            if (i == 0 || keys[i - 1] != keys[i])
            {
                tps.Add(truePositives);
                fps.Add(seen - truePositives);
            }
        }
        _fps = [.. fps];
        _tps = [.. tps];
    }

    public bool HasBothClasses => _tps.Length > 0 && _tps[^1] > 0 && _fps[^1] > 0;

    /// <summary>roc_curve's false and true positive rates (NaN throughout where a class is absent, as scikit-learn gives).</summary>
    public (double[] Fpr, double[] Tpr) Roc()
    {
        var keep = new List<int>();
        int m = _fps.Length;
        for (int i = 0; i < m; i++)
        {
            // Points collinear with both neighbours lie on the plotted line anyway (np.diff(_, 2) == 0 for both counts).
            bool corner = i == 0 || i == m - 1 || m <= 2
                || (_fps[i + 1] - _fps[i]) - (_fps[i] - _fps[i - 1]) != 0
                || (_tps[i + 1] - _tps[i]) - (_tps[i] - _tps[i - 1]) != 0;
            if (corner) keep.Add(i);
        }
        var fpr = new double[keep.Count + 1];
        var tpr = new double[keep.Count + 1];
        double lastF = _fps[^1], lastT = _tps[^1];
        fpr[0] = lastF > 0 ? 0 : double.NaN;
        tpr[0] = lastT > 0 ? 0 : double.NaN;
        for (int j = 0; j < keep.Count; j++)
        {
            fpr[j + 1] = lastF > 0 ? _fps[keep[j]] / lastF : double.NaN;
            tpr[j + 1] = lastT > 0 ? _tps[keep[j]] / lastT : double.NaN;
        }
        return (fpr, tpr);
    }

    /// <summary>precision_recall_curve's precision and recall: recall falling, ending at precision 1, recall 0.</summary>
    public (double[] Precision, double[] Recall) PrecisionRecall()
    {
        int m = _tps.Length;
        var precision = new double[m + 1];
        var recall = new double[m + 1];
        double lastT = _tps[^1];
        for (int i = 0; i < m; i++)
        {
            double ps = _tps[i] + _fps[i];
            precision[m - 1 - i] = ps != 0 ? _tps[i] / ps : 0;
            recall[m - 1 - i] = lastT == 0 ? 1 : _tps[i] / lastT; // no positives: recall is one throughout
        }
        precision[m] = 1;
        recall[m] = 0;
        return (precision, recall);
    }

    /// <summary>sklearn.metrics.auc: the trapezoid area under y(x), x monotonic either way.</summary>
    public static double Auc(double[] x, double[] y)
    {
        bool falling = false, rising = false;
        for (int i = 1; i < x.Length; i++)
        {
            if (x[i] < x[i - 1]) falling = true;
            else if (x[i] > x[i - 1]) rising = true;
        }
        if (falling && rising) throw new InvalidOperationException("x is neither increasing nor decreasing.");
        var area = default(ExactSum);
        for (int i = 1; i < x.Length; i++) area.Add((x[i] - x[i - 1]) * (y[i] + y[i - 1]) / 2.0);
        return falling ? -area.Value : area.Value;
    }

    /// <summary>average_precision_score: precision summed over the steps of recall (no interpolation).</summary>
    public static double AveragePrecision(double[] precision, double[] recall)
    {
        var sum = default(ExactSum);
        for (int i = 1; i < recall.Length; i++) sum.Add((recall[i] - recall[i - 1]) * precision[i - 1]);
        return -sum.Value;
    }

    /// <summary>
    /// scikit-plot's lift: rows by score, highest first (np.argsort(score)[::-1], so equal scores come later rows first),
    /// the share of positives found in the first k rows over the share k/n of rows, for k = 1..n.
    /// </summary>
    public static (double[] Fraction, double[] Lift) Lift(double[] scores, bool[] positive)
    {
        int n = scores.Length;
        var order = Enumerable.Range(0, n).ToArray();
        Array.Sort(order, (a, b) => scores[a] != scores[b] ? scores[b].CompareTo(scores[a]) : b.CompareTo(a));
        double total = positive.Count(p => p);
        var fraction = new double[n];
        var lift = new double[n];
        long found = 0;
        for (int k = 0; k < n; k++)
        {
            if (positive[order[k]]) found++;
            fraction[k] = (k + 1) / (double)n;
            lift[k] = found / total / fraction[k];
        }
        return (fraction, lift);
    }
}
