using System.Globalization;
using MlModels.Core.Evaluation.Plots;
using MlModels.Core.Format;
using MlModels.Core.Scoring;

namespace MlModels.Core.Evaluation;

/// <summary>
/// An evaluation's files in the layout of MLflow's <c>EvaluationResult.save</c>: <c>metrics.json</c>,
/// <c>artifacts_metadata.json</c> and <c>artifacts/</c> (the plots, <c>per_class_metrics.csv</c>,
/// <c>eval_results_table.json</c>). Written into a staging folder beside the target and moved into place whole by
/// <see cref="Commit"/>, so a failed evaluation leaves no half-written folder and an existing one is replaced only when asked.
/// </summary>
public sealed class EvaluationFolder : IDisposable
{
    public const string TableFile = "eval_results_table.json";
    private readonly string? _target;
    private readonly bool _overwrite;
    private readonly List<string> _artifacts = [];
    private bool _committed;

    private EvaluationFolder(string staging, string? target, bool overwrite)
    {
        Staging = staging;
        _target = target;
        _overwrite = overwrite;
        Directory.CreateDirectory(ArtifactsDir);
    }

    /// <summary>The folder being written (the final one after <see cref="Commit"/>).</summary>
    public string Staging { get; private set; }
    public string ArtifactsDir => Path.Combine(Staging, "artifacts");
    /// <summary>The artifact files written so far, by file name, in order.</summary>
    public IReadOnlyList<string> Artifacts => _artifacts;

    /// <summary>A folder that becomes <paramref name="target"/> on commit; refused when it exists, unless <paramref name="overwrite"/>.</summary>
    public static EvaluationFolder Create(string target, bool overwrite)
    {
        var full = Path.GetFullPath(target);
        if ((Directory.Exists(full) || File.Exists(full)) && !overwrite) throw new TargetExistsException($"{full} already exists.", full);
        var parent = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(parent);
        return new EvaluationFolder(Path.Combine(parent, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp"), full, overwrite);
    }

    /// <summary>A temporary folder that is removed on Dispose (artifacts to log without keeping them).</summary>
    public static EvaluationFolder Temporary() =>
        new(Path.Combine(Path.GetTempPath(), "mlmodels-evaluation-" + Guid.NewGuid().ToString("N")), null, false);

    /// <summary>The per-row table, opened before scoring and written batch by batch.</summary>
    public EvalTableWriter OpenTable()
    {
        _artifacts.Add(TableFile);
        return new EvalTableWriter(Path.Combine(ArtifactsDir, TableFile));
    }

    /// <summary>The plots MLflow's default evaluator draws for the candidate, and this module's regressor plots.</summary>
    public void WritePlots(ModelMetrics metrics, Action<string>? warn = null)
    {
        if (metrics.Classifier is ClassifierMetrics c) WriteClassifierPlots(c, warn);
        else if (metrics.Regression is RegressionSample s) WriteRegressorPlots(s);
    }

    /// <summary>MLflow's <c>max_classes_for_multiclass_roc_pr</c> default: more classes than this get no one-vs-rest curves.</summary>
    public const int MaxClassesForCurves = 10;

    private void WriteClassifierPlots(ClassifierMetrics c, Action<string>? warn)
    {
        var cm = c.ConfusionMatrix();
        var labels = cm.Labels;
        Save("confusion_matrix.png", new HeatmapChart
        {
            Title = "Normalized confusion matrix",
            RowLabels = labels,
            ColumnLabels = labels,
            Values = cm.Normalized(),
        });
        var pos = c.IsBinary ? c.PositiveLabel : null;
        bool curves = c.IsBinary || c.Labels.Count <= MaxClassesForCurves;
        if (!curves)
            warn?.Invoke($"The classifier has {c.Labels.Count} classes, more than {MaxClassesForCurves}: the ROC and precision-recall curves " +
                "are not drawn, as MLflow does not draw them.");
        var roc = curves ? c.RocCurves() : [];
        if (roc.Count > 0)
        {
            Save("roc_curve_plot.png", new LineChart
            {
                Title = "ROC curve",
                XLabel = pos == null ? "False Positive Rate" : $"False Positive Rate (Positive label: {pos})",
                YLabel = pos == null ? "True Positive Rate" : $"True Positive Rate (Positive label: {pos})",
                Series = roc.Select(r => new Series(r.Label, r.X, r.Y)).ToList(),
                Style = LineStyle.StepsPost,
                Reference = (0, 0, 1, 1),
            });
        }
        var pr = curves ? c.PrecisionRecallCurves() : [];
        if (pr.Count > 0)
        {
            Save("precision_recall_curve_plot.png", new LineChart
            {
                Title = "Precision recall curve",
                XLabel = pos == null ? "Recall" : $"Recall (Positive label: {pos})",
                YLabel = pos == null ? "Precision" : $"Precision (Positive label: {pos})",
                Series = pr.Select(r => new Series(r.Label, r.X, r.Y)).ToList(),
                Style = LineStyle.StepsPost,
                Reference = (0, 1, 1, 0),
            });
        }
        if (c.LiftCurve() is Curve lift)
        {
            Save("lift_curve_plot.png", new LineChart
            {
                Title = "Lift Curve",
                XLabel = "Percentage of sample",
                YLabel = "Lift",
                Series = [new Series(lift.Label, lift.X, lift.Y)],
                Reference = (0, 1, 1, 1),
            });
        }
        if (!c.IsBinary) WritePerClassMetrics(c);
    }

    /// <summary>MLflow's <c>per_class_metrics.csv</c> for multiclass models: each class against the rest, as a binary classifier.</summary>
    private void WritePerClassMetrics(ClassifierMetrics c)
    {
        var rows = PerClassMetrics(c);
        if (rows.Count == 0) return;
        var names = rows[0].Metrics.Keys.ToList();
        using (var w = new StreamWriter(Path.Combine(ArtifactsDir, "per_class_metrics.csv")) { NewLine = "\n" })
        {
            w.WriteLine("positive_class," + string.Join(",", names));
            foreach (var row in rows)
                w.WriteLine(string.Join(",", new[] { Csv(row.Label) }.Concat(names.Select(n =>
                    MetricText.Of(n, row.Metrics.TryGetValue(n, out var v) ? v : null) is var s && s == "None" ? "" : s))));
        }
        _artifacts.Add("per_class_metrics.csv");
    }

    /// <summary>
    /// MLflow's per-class metrics: each target label against the rest as a binary classifier (its confusion counts and
    /// the common metrics with pos_label=1), and its one-vs-rest roc_auc and precision-recall AUC when there are probabilities.
    /// </summary>
    public static IReadOnlyList<(string Label, Dictionary<string, double> Metrics)> PerClassMetrics(ClassifierMetrics c)
    {
        var cm = c.ConfusionMatrix();
        int k = cm.Labels.Count;
        long n = 0;
        for (int i = 0; i < k; i++) for (int j = 0; j < k; j++) n += cm.Counts[i, j];
        bool curves = c.Labels.Count <= MaxClassesForCurves;
        var roc = curves ? c.RocCurves() : [];
        var pr = curves ? c.PrecisionRecallCurves() : [];
        var rows = new List<(string, Dictionary<string, double>)>();
        var labels = c.Labels;
        for (int li = 0; li < labels.Count; li++)
        {
            int x = cm.Labels.ToList().IndexOf(labels[li]);
            long tp = cm.Counts[x, x], row = 0, col = 0;
            for (int j = 0; j < k; j++) { row += cm.Counts[x, j]; col += cm.Counts[j, x]; }
            long fn = row - tp, fp = col - tp, tn = n - tp - fn - fp;
            double recall = tp + fn > 0 ? (double)tp / (tp + fn) : 0, precision = tp + fp > 0 ? (double)tp / (tp + fp) : 0;
            var m = new Dictionary<string, double>(StringComparer.Ordinal)
            {
                ["true_negatives"] = tn,
                ["false_positives"] = fp,
                ["false_negatives"] = fn,
                ["true_positives"] = tp,
                ["example_count"] = n,
                ["accuracy_score"] = (double)(tp + tn) / n,
                ["recall_score"] = recall,
                ["precision_score"] = precision,
                ["f1_score"] = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0,
            };
            if (roc.Count == labels.Count && roc[li].Auc is double auc) m["roc_auc"] = auc;
            if (pr.Count == labels.Count && pr[li].Auc is double ap) m["precision_recall_auc"] = ap;
            rows.Add((labels[li], m));
        }
        return rows;
    }

    private static string Csv(string s) => s.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + s.Replace("\"", "\"\"") + "\"" : s;

    private void WriteRegressorPlots(RegressionSample s)
    {
        var y = s.Items.Select(i => i.Target).ToArray();
        var p = s.Items.Select(i => i.Prediction).ToArray();
        if (y.Length == 0) return;
        double lo = Math.Min(y.Min(), p.Min()), hi = Math.Max(y.Max(), p.Max());
        Save("predicted_vs_actual_plot.png", new LineChart
        {
            Title = "Predicted vs actual",
            XLabel = "Actual (target)",
            YLabel = "Predicted",
            Series = [new Series("predictions", y, p)],
            Style = LineStyle.Markers,
            Reference = (lo, lo, hi, hi),
            Legend = false,
        });
        Save("residuals_plot.png", new LineChart
        {
            Title = "Residuals",
            XLabel = "Predicted",
            YLabel = "Residual (target - predicted)",
            Series = [new Series("residuals", p, y.Zip(p, (a, b) => a - b).ToArray())],
            Style = LineStyle.Markers,
            Reference = (p.Min(), 0, p.Max(), 0),
            Legend = false,
        });
    }

    private void Save(string name, LineChart chart)
    {
        Charts.Save(chart, Path.Combine(ArtifactsDir, name));
        _artifacts.Add(name);
    }

    private void Save(string name, HeatmapChart chart)
    {
        Charts.Save(chart, Path.Combine(ArtifactsDir, name));
        _artifacts.Add(name);
    }

    /// <summary><c>metrics.json</c> as <c>json.dump</c> writes MLflow's metrics (counts as integers).</summary>
    public void WriteMetrics(IReadOnlyDictionary<string, double> metrics)
    {
        using var stream = File.Create(Path.Combine(Staging, "metrics.json"));
        using var w = new PyJsonWriter(stream);
        w.StartObject();
        foreach (var (k, v) in metrics)
        {
            w.Key(k);
            if (MetricText.Counts.Contains(k) && v == Math.Floor(v) && Math.Abs(v) < 1e15) w.Number((long)v);
            else w.Number(v);
        }
        w.EndObject();
    }

    /// <summary>
    /// <c>artifacts_metadata.json</c>: each artifact's URI (in the run when it was logged, else its file here) and
    /// MLflow's class for it, so that MLflow's <c>EvaluationResult.load</c> reads the folder.
    /// </summary>
    public void WriteMetadata(string? runArtifactUri)
    {
        using var stream = File.Create(Path.Combine(Staging, "artifacts_metadata.json"));
        using var w = new PyJsonWriter(stream);
        w.StartObject();
        foreach (var file in _artifacts)
        {
            w.Key(Path.GetFileNameWithoutExtension(file));
            w.StartObject();
            w.Key("uri");
            w.String(runArtifactUri != null ? runArtifactUri.TrimEnd('/') + "/" + file
                : new Uri(Path.Combine(_target ?? Staging, "artifacts", file)).AbsoluteUri);
            w.Key("class_name");
            w.String("mlflow.models.evaluation.artifacts." + (Path.GetExtension(file) switch
            {
                ".png" => "ImageEvaluationArtifact",
                ".csv" => "CsvEvaluationArtifact",
                _ => "JsonEvaluationArtifact",
            }));
            w.EndObject();
        }
        w.EndObject();
    }

    /// <summary>Moves the staging folder into place (replacing an old one only when overwriting was allowed).</summary>
    public string Commit()
    {
        if (_target == null) return Staging;
        if (Directory.Exists(_target) || File.Exists(_target))
        {
            if (!_overwrite) throw new TargetExistsException($"{_target} already exists.", _target);
            var old = _target + "." + Guid.NewGuid().ToString("N") + ".old";
            if (Directory.Exists(_target)) Directory.Move(_target, old); else File.Move(_target, old);
            Directory.Move(Staging, _target);
            try { if (Directory.Exists(old)) Directory.Delete(old, true); else File.Delete(old); } catch (IOException) { }
        }
        else Directory.Move(Staging, _target);
        Staging = _target;
        _committed = true;
        return _target;
    }

    /// <summary>Leaves a temporary folder in place on Dispose (its files are logged first, then removed by the caller).</summary>
    public void Keep() => _committed = true;

    public void Dispose()
    {
        if (_committed) return;
        try { if (Directory.Exists(Staging)) Directory.Delete(Staging, true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}

/// <summary>
/// <c>eval_results_table.json</c> in the form of MLflow's <c>log_table</c> (<c>{"columns": [...], "data": [[...], ...]}</c>):
/// the input columns, the target and the candidate's prediction (<c>outputs</c>), one row per evaluated row.
/// </summary>
public sealed class EvalTableWriter : IDisposable
{
    private readonly FileStream _stream;
    private readonly PyJsonWriter _w;
    private bool _started;

    public EvalTableWriter(string path)
    {
        _stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
        _w = new PyJsonWriter(_stream);
    }

    public void Write(Frame features, string targetName, ColumnData target, ColumnData predictions)
    {
        if (!_started)
        {
            _started = true;
            _w.StartObject();
            _w.Key("columns");
            _w.StartArray();
            foreach (var n in features.Names) _w.String(n);
            _w.String(targetName);
            _w.String("outputs");
            _w.EndArray();
            _w.Key("data");
            _w.StartArray();
        }
        for (int r = 0; r < features.RowCount; r++)
        {
            _w.StartArray();
            foreach (var c in features.Columns) _w.Value(c.Get(r));
            _w.Value(target.Get(r));
            _w.Value(predictions.Get(r));
            _w.EndArray();
        }
    }

    public void Dispose()
    {
        if (_started)
        {
            _w.EndArray();
            _w.EndObject();
        }
        _w.Dispose();
        _stream.Dispose();
    }
}

/// <summary>Evaluation metrics by name, for messages and logs.</summary>
public static class EvaluationText
{
    public static string Format(IReadOnlyDictionary<string, double> metrics) =>
        string.Join(", ", metrics.Select(kv => $"{kv.Key}={MetricText.Of(kv.Key, kv.Value)}"));

}
