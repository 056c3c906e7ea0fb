using System.Globalization;
using System.Runtime.InteropServices;

namespace MlModels.Core.Evaluation;

/// <summary>
/// The metrics MLflow's default evaluator logs for a classifier, as the scikit-learn functions it calls compute them
/// (no sample weights), and the data of the plots it draws. Labels are <see cref="LabelKey"/> keys; the classifier is
/// binary when the targets hold at most two labels. Not thread-safe.
/// </summary>
/// <remarks>
/// Counts (per label, and per pair of target and prediction that occurs) and the log-loss sum stream. The areas under
/// the curves need every row's score: with probabilities, each row keeps its target's label number (4 bytes) and, when
/// the model gives at most two probability columns (binary), one double, the positive class's probability; with k of
/// three or more columns (multiclass), all k doubles. Without probabilities nothing is kept per row.
/// </remarks>
public sealed class ClassifierMetrics
{
    private const double ClipEpsilon = RegressorMetrics.MachineEpsilon;

    private readonly string? _givenPositive;
    private readonly string[]? _probabilityClasses;
    private readonly Dictionary<string, int> _columnOfClass = new(StringComparer.Ordinal);
    private readonly int _keptColumn = -1; // with at most two columns, the one column each row keeps
    private readonly bool _keepsAllColumns;

    private readonly Dictionary<string, int> _indexOfText = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _indexOfKey = new(StringComparer.Ordinal);
    private readonly List<string> _keys = [];
    private readonly List<int> _columnOfLabel = [];
    private readonly List<long> _targetCounts = [];
    private readonly List<long> _predictionCounts = [];
    private readonly Dictionary<long, long> _pairCounts = []; // (target << 32 | prediction) -> rows, only pairs that occur

    private readonly RowStore<int>? _rowTargets;
    private readonly RowStore<double>? _rowScores;
    private ExactSum _logLoss;
    private long _firstRowNotSummingToOne;
    private double _firstBadSum;

    /// <param name="positiveLabel">The positive class of a binary classifier; null for the last of the sorted labels.</param>
    /// <param name="probabilityClasses">
    /// Label keys (LabelKey.Of) of the probability columns in order (e.g. sklearn's classes_), null when the model gives no
    /// probabilities.
    /// </param>
    public ClassifierMetrics(string? positiveLabel, IReadOnlyList<string>? probabilityClasses)
    {
        if (positiveLabel != null)
        {
            if (positiveLabel.Length == 0) throw new ArgumentException("The positive label is empty.", nameof(positiveLabel));
            _givenPositive = LabelKey.Of(positiveLabel);
        }
        if (probabilityClasses == null) return;
        if (probabilityClasses.Count == 0) throw new ArgumentException("There are no probability classes.", nameof(probabilityClasses));
        _probabilityClasses = new string[probabilityClasses.Count];
        for (int i = 0; i < probabilityClasses.Count; i++)
        {
            var key = LabelKey.Of(probabilityClasses[i]);
            if (!_columnOfClass.TryAdd(key, i))
                throw new ArgumentException($"The probability class {key} names two columns.", nameof(probabilityClasses));
            _probabilityClasses[i] = key;
        }
        _rowTargets = new RowStore<int>();
        _rowScores = new RowStore<double>();
        _keepsAllColumns = _probabilityClasses.Length > 2;
        if (!_keepsAllColumns)
        {
            // The positive class is the given one, else the greater label; if the targets turn out otherwise, the
            // areas are left out with a warning.
            var kept = _givenPositive != null && _columnOfClass.ContainsKey(_givenPositive)
                ? _givenPositive
                : LabelOrder.Sort(_probabilityClasses)[^1];
            _keptColumn = _columnOfClass[kept];
        }
    }

    /// <summary>The rows added so far.</summary>
    public long Count { get; private set; }

    /// <summary>Adds a row.</summary>
    /// <param name="target">The true label (a label key; other spellings of a number are made keys).</param>
    /// <param name="prediction">The predicted label.</param>
    /// <param name="probabilities">One probability per probability class, in their order; empty when there are none.</param>
    /// <exception cref="EvaluationException">
    /// The target or prediction is missing (null, empty, NaN) or an infinite number, or the probabilities do not fit
    /// the probability classes or are not finite.
    /// </exception>
    public void Add(string target, string prediction, ReadOnlySpan<double> probabilities)
    {
        long row = Count + 1;
        int k = _probabilityClasses?.Length ?? 0;
        if (probabilities.Length != k)
        {
            var expected = k == 0 ? "none (the model gives no probabilities)" : $"{k} ({string.Join(", ", _probabilityClasses!)})";
            throw new EvaluationException($"Row {row}: {probabilities.Length} probabilities, where the classes call for {expected}.")
            { Row = row, Column = "probabilities" };
        }
        foreach (var p in probabilities)
        {
            if (double.IsFinite(p)) continue;
            var text = p.ToString(CultureInfo.InvariantCulture);
            throw new EvaluationException($"Row {row}: a probability is {text}; scikit-learn refuses input that contains NaN or infinity.")
            { Row = row, Column = "probabilities" };
        }
        int t = IndexOf(target, row, "target");
        int y = IndexOf(prediction, row, "prediction");

        _targetCounts[t]++;
        _predictionCounts[y]++;
        CollectionsMarshal.GetValueRefOrAddDefault(_pairCounts, Pair(t, y), out _)++;
        Count = row;
        if (k == 0) return;

        int column = _columnOfLabel[t];
        if (column >= 0)
        {
            // log_loss: clipped to [eps, 1-eps], the row renormalised, minus the log of the target's share.
            double sum = 0;
            foreach (var p in probabilities) sum += Clip(p);
            _logLoss.Add(-Math.Log(Clip(probabilities[column]) / sum));
        }
        double rawSum = 0;
        foreach (var p in probabilities) rawSum += p;
        if (!(Math.Abs(1 - rawSum) <= 1e-8 + (1e-5 * Math.Abs(rawSum))) && _firstRowNotSummingToOne == 0)
        {
            _firstRowNotSummingToOne = row; // np.allclose(1, row sum) fails: not probabilities to multiclass roc_auc
            _firstBadSum = rawSum;
        }
        _rowTargets!.Add(t);
        if (_keepsAllColumns)
        {
            foreach (var p in probabilities) _rowScores!.Add(p);
        }
        else
        {
            _rowScores!.Add(probabilities[_keptColumn]);
        }
    }

    private static double Clip(double p) => Math.Min(Math.Max(p, ClipEpsilon), 1 - ClipEpsilon);

    private int IndexOf(string? text, long row, string column)
    {
        if (string.IsNullOrEmpty(text))
            throw new EvaluationException($"Row {row}: the {column} is missing; MLflow refuses missing {column}s.") { Row = row, Column = column };
        if (_indexOfText.TryGetValue(text, out int index)) return index;
        var key = LabelKey.Of(text);
        if (key == "NaN")
            throw new EvaluationException($"Row {row}: the {column} is missing (NaN); MLflow refuses missing {column}s.")
            { Row = row, Column = column };
        if (key is "Infinity" or "-Infinity")
            throw new EvaluationException($"Row {row}: the {column} is {key}; scikit-learn refuses infinite labels.") { Row = row, Column = column };
        if (!_indexOfKey.TryGetValue(key, out index))
        {
            index = _keys.Count;
            _keys.Add(key);
            _indexOfKey.Add(key, index);
            _columnOfLabel.Add(_columnOfClass.TryGetValue(key, out int c) ? c : -1);
            _targetCounts.Add(0);
            _predictionCounts.Add(0);
        }
        _indexOfText.Add(text, index);
        return index;
    }

    private static long Pair(int target, int prediction) => ((long)target << 32) | (uint)prediction;

    private long Cell(int target, int prediction) => _pairCounts.GetValueOrDefault(Pair(target, prediction));

    private long TargetCount(int label) => _targetCounts[label];

    private long PredictionCount(int label) => _predictionCounts[label];

    /// <summary>Predicted labels that no target has (scikit-learn takes them; a caller may refuse or warn).</summary>
    public IReadOnlySet<string> UnknownPredictionLabels =>
        Enumerable.Range(0, _keys.Count)
            .Where(i => TargetCount(i) == 0 && PredictionCount(i) > 0)
            .Select(i => _keys[i])
            .ToHashSet(StringComparer.Ordinal);

    /// <summary>The targets' labels, sorted as np.unique sorts them (numerically when all are numbers).</summary>
    public IReadOnlyList<string> Labels => LabelOrder.Sort(Enumerable.Range(0, _keys.Count).Where(i => TargetCount(i) > 0).Select(i => _keys[i]));

    /// <summary>Whether the targets hold at most two labels, as MLflow decides.</summary>
    public bool IsBinary => Labels.Count <= 2;

    /// <summary>The positive label: the given one, else the last of <see cref="Labels"/> (null before any row).</summary>
    public string? PositiveLabel => _givenPositive ?? (Labels.Count > 0 ? Labels[^1] : null);

    /// <summary>Labels of targets and predictions together, sorted (scikit-learn's unique_labels(y_true, y_pred)).</summary>
    private List<string> PresentLabels() =>
        LabelOrder.Sort(Enumerable.Range(0, _keys.Count).Where(i => TargetCount(i) > 0 || PredictionCount(i) > 0).Select(i => _keys[i]));

    private int Index(string key) => _indexOfKey.TryGetValue(key, out int i) ? i : -1;

    /// <summary>
    /// MLflow's names in MLflow's order. Binary: example_count, accuracy_score, recall_score, precision_score, f1_score
    /// (average="binary"), true_negatives, false_positives, false_negatives, true_positives, and with probabilities
    /// log_loss, roc_auc, precision_recall_auc. Multiclass: the first five (average="weighted"), and with probabilities
    /// log_loss and roc_auc (one-vs-rest, weighted). A metric scikit-learn cannot compute is left out, with a warning
    /// that says why; where scikit-learn sets an ill-defined score to 0 it is 0 here too, with its warning.
    /// </summary>
    /// <exception cref="EvaluationException">
    /// No rows; or a binary classifier's targets and predictions together hold more than two labels, or its positive
    /// label is not among two present ones (scikit-learn raises for both).
    /// </exception>
    public IReadOnlyDictionary<string, double> Compute(Action<string>? warn = null)
    {
        if (Count == 0) throw new EvaluationException("There are no rows to evaluate.");
        var labels = Labels;
        var present = PresentLabels();
        double n = Count;
        var metrics = new MetricValues();
        metrics.Add("example_count", n);
        long correct = 0;
        for (int i = 0; i < _keys.Count; i++) correct += Cell(i, i);
        metrics.Add("accuracy_score", correct / n);
        if (labels.Count <= 2) AddBinaryScores(metrics, present, warn);
        else AddWeightedScores(metrics, present, warn);
        if (_probabilityClasses != null) AddProbabilityMetrics(metrics, labels, warn);
        return metrics;
    }

    private void AddBinaryScores(MetricValues metrics, List<string> present, Action<string>? warn)
    {
        var positive = PositiveLabel!;
        if (present.Count > 2)
        {
            throw new EvaluationException(
                $"The targets hold at most two labels, so the classifier is binary, but targets and predictions together hold {present.Count}: "
                + $"{Quote(present)}, and scikit-learn's binary metrics (average=\"binary\") take two at most. Predicted labels that no "
                + $"target has: {Quote(LabelOrder.Sort(UnknownPredictionLabels))}.");
        }
        if (!present.Contains(positive) && present.Count == 2)
        {
            throw new EvaluationException(
                $"The positive label {positive} is none of the labels of the targets and predictions, {Quote(present)}; "
                + "scikit-learn's binary metrics refuse it.");
        }
        int p = Index(positive);
        long tp = p < 0 ? 0 : Cell(p, p);
        long predicted = p < 0 ? 0 : PredictionCount(p);
        long actual = p < 0 ? 0 : TargetCount(p);
        double recall = Divide(tp, actual, () => warn?.Invoke(
            $"recall_score is ill-defined and set to 0.0, as scikit-learn sets it: no target is the positive label {positive}."));
        double precision = Divide(tp, predicted, () => warn?.Invoke(
            $"precision_score is ill-defined and set to 0.0, as scikit-learn sets it: no prediction is the positive label {positive}."));
        if (actual == 0 && predicted == 0)
        {
            warn?.Invoke("f1_score is ill-defined and set to 0.0, as scikit-learn sets it: neither a target nor a prediction is the "
                + $"positive label {positive}.");
        }
        metrics.Add("recall_score", recall);
        metrics.Add("precision_score", precision);
        metrics.Add("f1_score", F1(precision, recall));

        if (present.Count == 2)
        {
            // confusion_matrix(y_true, y_pred).ravel(): rows and columns in sorted label order, whichever is positive.
            int a = Index(present[0]), b = Index(present[1]);
            metrics.Add("true_negatives", Cell(a, a));
            metrics.Add("false_positives", Cell(a, b));
            metrics.Add("false_negatives", Cell(b, a));
            metrics.Add("true_positives", Cell(b, b));
        }
        else
        {
            warn?.Invoke($"true_negatives, false_positives, false_negatives and true_positives are left out: targets and predictions hold "
                + $"one label only ({present[0]}), so scikit-learn's confusion matrix is 1x1.");
        }
    }

    private void AddWeightedScores(MetricValues metrics, List<string> present, Action<string>? warn)
    {
        // precision, recall and F1 of each present label, averaged with the label's target count as its weight.
        double precisionSum = 0, recallSum = 0, f1Sum = 0, weightSum = 0;
        var unpredicted = new List<string>();
        var untargeted = new List<string>();
        foreach (var label in present)
        {
            int i = Index(label);
            long tp = Cell(i, i), predicted = PredictionCount(i), actual = TargetCount(i);
            double precision = Divide(tp, predicted, () => unpredicted.Add(label));
            double recall = Divide(tp, actual, () => untargeted.Add(label));
            precisionSum += precision * actual;
            recallSum += recall * actual;
            f1Sum += F1(precision, recall) * actual;
            weightSum += actual;
        }
        if (untargeted.Count > 0)
        {
            warn?.Invoke($"recall_score is ill-defined for labels no target has ({Quote(untargeted)}) and set to 0.0 for them, as scikit-learn "
                + "sets it (their weight is 0).");
        }
        if (unpredicted.Count > 0)
        {
            warn?.Invoke($"precision_score is ill-defined for labels no prediction has ({Quote(unpredicted)}) and set to 0.0 for them, as "
                + "scikit-learn sets it.");
        }
        metrics.Add("recall_score", recallSum / weightSum);
        metrics.Add("precision_score", precisionSum / weightSum);
        metrics.Add("f1_score", f1Sum / weightSum);
    }

    private static double Divide(long numerator, long denominator, Action illDefined)
    {
        if (denominator != 0) return numerator / (double)denominator;
        illDefined();
        return 0.0;
    }

    // scikit-learn's (1 + beta²)·p·r / (beta²·p + r), with a zero denominator replaced by 1.
    private static double F1(double precision, double recall)
    {
        double denominator = precision + recall;
        return 2 * precision * recall / (denominator == 0 ? 1 : denominator);
    }

    private void AddProbabilityMetrics(MetricValues metrics, IReadOnlyList<string> labels, Action<string>? warn)
    {
        bool binary = labels.Count <= 2;
        if (labels.Count < 2)
        {
            var which = binary ? "log_loss, roc_auc and precision_recall_auc are" : "log_loss is";
            warn?.Invoke($"{which} left out: the targets hold one class only ({labels[0]}), and scikit-learn needs two to compute them.");
            return;
        }
        bool columnsAreLabels = labels.Count == _probabilityClasses!.Length && labels.All(_columnOfClass.ContainsKey);
        if (columnsAreLabels)
        {
            metrics.Add("log_loss", _logLoss.Value / Count);
        }
        else
        {
            warn?.Invoke($"log_loss is left out: the probability columns ({Quote(_probabilityClasses)}) are not the target labels "
                + $"({Quote(labels)}), and scikit-learn's log_loss needs one column per label.");
        }

        if (binary)
        {
            var positive = PositiveLabel!;
            var scores = ScoresOf(positive, out var isPositive);
            if (scores == null)
            {
                warn?.Invoke($"roc_auc and precision_recall_auc are left out: no probability column is the positive label's ({positive}); "
                    + $"the columns are {Quote(_probabilityClasses)}.");
                return;
            }
            var curves = new BinaryCurves(scores, isPositive);
            var (fpr, tpr) = curves.Roc();
            metrics.Add("roc_auc", BinaryCurves.Auc(fpr, tpr));
            var (precision, recall) = curves.PrecisionRecall();
            // MLflow 2.12 logs its precision-recall curve's "auc", which is average_precision_score (the curve's AP label).
            metrics.Add("precision_recall_auc", BinaryCurves.AveragePrecision(precision, recall));
            return;
        }

        if (!columnsAreLabels)
        {
            warn?.Invoke($"roc_auc is left out: the probability columns ({Quote(_probabilityClasses)}) are not the target labels "
                + $"({Quote(labels)}), and scikit-learn's one-vs-rest roc_auc needs one column per label.");
            return;
        }
        if (_firstRowNotSummingToOne != 0)
        {
            warn?.Invoke($"roc_auc is left out: the probabilities of row {_firstRowNotSummingToOne} sum to "
                + $"{_firstBadSum.ToString("R", CultureInfo.InvariantCulture)}, not 1, and scikit-learn's multiclass roc_auc needs probabilities.");
            return;
        }
        // One-vs-rest AUC of each label, weighted by its target count.
        double weighted = 0, weights = 0;
        foreach (var label in labels)
        {
            var scores = ScoresOf(label, out var isLabel)!;
            var (fpr, tpr) = new BinaryCurves(scores, isLabel).Roc();
            long count = TargetCount(Index(label));
            weighted += BinaryCurves.Auc(fpr, tpr) * count;
            weights += count;
        }
        metrics.Add("roc_auc", weighted / weights);
    }

    /// <summary>Each row's probability of a class and whether its target is that class; null where that column was not kept.</summary>
    private double[]? ScoresOf(string label, out bool[] isLabel)
    {
        isLabel = [];
        if (_probabilityClasses == null || !_columnOfClass.TryGetValue(label, out int column)) return null;
        if (!_keepsAllColumns && column != _keptColumn) return null;
        int k = _keepsAllColumns ? _probabilityClasses.Length : 1;
        int offset = _keepsAllColumns ? column : 0;
        int index = Index(label);
        long n = _rowTargets!.Count;
        var scores = new double[n];
        isLabel = new bool[n];
        for (long i = 0; i < n; i++)
        {
            scores[i] = _rowScores![(i * k) + offset];
            isLabel[i] = _rowTargets[i] == index;
        }
        return scores;
    }

    /// <summary>
    /// The counts by target and prediction over the labels of both (confusion_matrix(y_true, y_pred)); <see
    /// cref="ConfusionMatrix.Normalized"/> gives the matrix MLflow plots (normalize="true").
    /// </summary>
    public ConfusionMatrix ConfusionMatrix()
    {
        var present = PresentLabels();
        var counts = new long[present.Count, present.Count];
        for (int i = 0; i < present.Count; i++)
        {
            for (int j = 0; j < present.Count; j++) counts[i, j] = Cell(Index(present[i]), Index(present[j]));
        }
        return new ConfusionMatrix(present, counts);
    }

    /// <summary>
    /// roc_curve's points (x false positive rate, y true positive rate): binary, one curve for the positive label,
    /// "AUC=0.xxx"; multiclass, one per label one-vs-rest, "label=&lt;label&gt;,AUC=0.xxx". Empty without
    /// probabilities, with targets of one class, or where a label has no probability column.
    /// </summary>
    public IReadOnlyList<Curve> RocCurves() => Curves(curves =>
    {
        var (fpr, tpr) = curves.Roc();
        double auc = BinaryCurves.Auc(fpr, tpr);
        return (fpr, tpr, $"AUC={NumpyQuirks.Fixed3(auc)}", auc);
    });

    /// <summary>
    /// precision_recall_curve's points (x recall, y precision), labelled with average_precision_score as MLflow labels
    /// them: "AP=0.xxx" (binary), "label=&lt;label&gt;,AP=0.xxx" (multiclass). Empty where <see cref="RocCurves"/> is.
    /// </summary>
    public IReadOnlyList<Curve> PrecisionRecallCurves() => Curves(curves =>
    {
        var (precision, recall) = curves.PrecisionRecall();
        double ap = BinaryCurves.AveragePrecision(precision, recall);
        return (recall, precision, $"AP={NumpyQuirks.Fixed3(ap)}", ap);
    });

    private List<Curve> Curves(Func<BinaryCurves, (double[] X, double[] Y, string Label, double Auc)> curve)
    {
        var labels = Labels;
        if (_probabilityClasses == null || labels.Count < 2) return [];
        if (labels.Count == 2)
        {
            if (!labels.Contains(PositiveLabel!)) return [];
            var scores = ScoresOf(PositiveLabel!, out var isPositive);
            if (scores == null) return [];
            var (x, y, text, auc) = curve(new BinaryCurves(scores, isPositive));
            return [new Curve(text, x, y, auc)];
        }
        var result = new List<Curve>();
        foreach (var label in labels)
        {
            var scores = ScoresOf(label, out var isLabel);
            if (scores == null) return [];
            var (x, y, text, auc) = curve(new BinaryCurves(scores, isLabel));
            result.Add(new Curve($"label={label},{text}", x, y, auc));
        }
        return result;
    }

    /// <summary>
    /// scikit-plot's lift curve as MLflow plots it, for the positive label: x the fraction of rows taken by falling
    /// score (1/n..1), y the share of positives among them over their share of rows. Null unless binary with
    /// probabilities and targets of both classes.
    /// </summary>
    public Curve? LiftCurve()
    {
        var labels = Labels;
        if (_probabilityClasses == null || labels.Count != 2) return null;
        var positive = PositiveLabel!;
        if (!labels.Contains(positive)) return null;
        var scores = ScoresOf(positive, out var isPositive);
        if (scores == null) return null;
        var (fraction, lift) = BinaryCurves.Lift(scores, isPositive);
        return new Curve($"Class {positive}", fraction, lift, null);
    }

    private static string Quote(IEnumerable<string> labels) => string.Join(", ", labels.Select(l => $"'{l}'"));
}
