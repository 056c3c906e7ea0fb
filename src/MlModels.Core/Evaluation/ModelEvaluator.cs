using System.Globalization;
using MlModels.Core.Format;
using MlModels.Core.Scoring;

namespace MlModels.Core.Evaluation;

/// <summary>
/// MLflow's default evaluator (<c>mlflow.evaluate</c> for regressors and classifiers) over the one scoring path: the data
/// is read once, in batches; each batch loses its target column, goes through the model's schema enforcement and
/// scorer (and the baseline's, on the same rows), and its predictions feed streaming metric accumulators.
/// </summary>
public static class ModelEvaluator
{
    /// <summary>
    /// The planner for evaluation data: the model's own plan of the feature columns (the target column is not offered
    /// to it, so it draws no "extra input" warning), and the target column after them, as float64 for a regressor
    /// (a non-number is an error naming its row) or as given for a classifier.
    /// </summary>
    public static ColumnPlanner Planner(IScorer scorer, string target, EvaluationModelType type, Action<string>? warn)
    {
        var model = PredictionEngine.Planner(scorer, warn);
        return names =>
        {
            int t = -1;
            for (int i = 0; i < names.Count; i++) if (names[i] == target) { t = i; break; }
            if (t < 0)
                throw new EvaluationException($"The data has no target column '{target}'; its columns are {ColumnPlan.PyList(names)}.")
                {
                    Column = target,
                };
            var features = names.Where((_, i) => i != t).ToList();
            var plan = model(features).Select(c => c with { SourceIndex = c.SourceIndex >= t ? c.SourceIndex + 1 : c.SourceIndex }).ToList();
            plan.Add(new ColumnTarget(target, type == EvaluationModelType.Regressor ? ElementKind.Float64 : ElementKind.Object, t, true, null));
            return plan;
        };
    }

    /// <summary>
    /// Scores every batch with the candidate (and the baseline) and computes MLflow's metrics for each. Batches come
    /// from a reader planned by <see cref="Planner"/>, so their last column is the target.
    /// </summary>
    public static EvaluationOutcome Evaluate(IScorer candidate, IScorer? baseline, IEnumerable<Frame> batches, EvaluationOptions options,
        Action<string>? warn, IProgress<PredictionProgress>? progress = null, CancellationToken ct = default)
    {
        if (baseline != null) CheckSameSignature(candidate.Model, baseline.Model);
        var models = new List<ModelRun> { new(candidate, options, warn) };
        if (baseline != null) models.Add(new ModelRun(baseline, options, warn));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        long rows = 0;
        foreach (var batch in batches)
        {
            ct.ThrowIfCancellationRequested();
            if (rows == 0) foreach (var m in models) PredictionEngine.WaitReady(m.Scorer, ct);
            int ti = batch.IndexOf(options.Target);
            var features = new Frame(batch.Names.Where((_, i) => i != ti).ToList(), batch.Columns.Where((_, i) => i != ti).ToList(),
                batch.RowCount, batch.FirstRow)
            { PositionalNames = batch.PositionalNames };
            var target = batch.Columns[ti];
            CheckTargets(target, options, batch.FirstRow);
            Frame? candidatePredictions = null;
            foreach (var m in models)
            {
                var table = m.Score(features, target, ct);
                candidatePredictions ??= table;
            }
            options.Table?.Write(features, options.Target, target, models[0].PredictionsOf(candidatePredictions!));
            rows += batch.RowCount;
            progress?.Report(new PredictionProgress(rows, clock.Elapsed));
        }
        if (rows == 0) throw new EvaluationException("The data has no rows to evaluate the model on.");
        var results = models.Select(m => m.Finish(warn)).ToList();
        return new EvaluationOutcome(results[0], results.Count > 1 ? results[1] : null, rows);
    }

    /// <summary>A baseline is compared on the same rows, so it must take the same input as the candidate.</summary>
    public static void CheckSameSignature(MLModel candidate, MLModel baseline)
    {
        var a = candidate.Signature?.Inputs?.ToString() ?? "none";
        var b = baseline.Signature?.Inputs?.ToString() ?? "none";
        if (a != b)
            throw new EvaluationException($"The baseline model '{baseline.Name}' takes different inputs from the candidate '{candidate.Name}', " +
                $"so they cannot be scored on the same rows: the candidate's input signature is {a}, the baseline's is {b}.");
    }

    // MLflow refuses targets with missing values before scoring (pandas' NaN in the target column).
    private static void CheckTargets(ColumnData target, EvaluationOptions options, long firstRow)
    {
        var numbers = target.Values as double[];
        for (int r = 0; r < target.Length; r++)
        {
            // Read without boxing where the column is float64 (a regressor's targets).
            bool missing = numbers != null && target.Missing == null ? double.IsNaN(numbers[r])
                : target.Get(r) is var v && (v == null || v is double d && double.IsNaN(d) || v is string { Length: 0 });
            if (missing)
                throw new EvaluationException($"Row {firstRow + r:N0} has no target value in column '{options.Target}'; the evaluation data's " +
                    "targets must not be missing (MLflow refuses NaN targets).")
                { Row = firstRow + r, Column = options.Target };
        }
    }

    /// <summary>One model's scoring and metric accumulation.</summary>
    private sealed class ModelRun(IScorer scorer, EvaluationOptions options, Action<string>? warn)
    {
        public IScorer Scorer { get; } = scorer;
        private readonly RegressorMetrics? _regression = options.ModelType == EvaluationModelType.Regressor ? new RegressorMetrics() : null;
        private readonly RegressionSample? _sample = options.ModelType == EvaluationModelType.Regressor ? new RegressionSample(20_000) : null;
        private ClassifierMetrics? _classifier;
        private IReadOnlyDictionary<string, object?>? _parameters;
        private string? _noProbabilities;
        private int _predictionIndex = -1;
        private List<int>? _probabilityColumns;

        public Frame Score(Frame features, ColumnData target, CancellationToken ct)
        {
            var input = PredictionEngine.Enforce(Scorer, features, fromText: true);
            // The same for every batch: enforced (and warned about) once.
            var parameters = _parameters ??= PredictionEngine.ParamsFor(Scorer.Model, null, options.Params, warn);
            var scored = options.ModelType == EvaluationModelType.Classifier && Scorer is IProbabilityScorer ps
                ? ps.PredictWithProbabilities(input, parameters, ct)
                : new ScoredWithProbabilities(Scorer.Predict(input, parameters, ct), null, null);
            var table = scored.Prediction.ToTable()
                ?? throw new EvaluationException($"Model '{Scorer.Model.Name}' returned a {scored.Prediction.Kind} that is not one value per " +
                    "row, so it cannot be evaluated.");
            if (table.RowCount != features.RowCount)
                throw new EvaluationException(
                    $"Model '{Scorer.Model.Name}' returned {table.RowCount:N0} predictions for {features.RowCount:N0} rows.")
                {
                    Row = features.FirstRow,
                };
            if (_predictionIndex < 0) _predictionIndex = PredictionColumn(table);
            var predictions = table.Columns[_predictionIndex];
            if (_regression != null) AddRegression(features.FirstRow, target, predictions);
            else AddClassification(features.FirstRow, target, predictions, table, scored);
            return table;
        }

        /// <summary>The predictions column of a table this model returned.</summary>
        public ColumnData PredictionsOf(Frame table) => table.Columns[_predictionIndex];

        private void AddRegression(long firstRow, ColumnData target, ColumnData predictions)
        {
            var y = (double[])target.Values;
            var sample = options.KeepSample ? _sample : null;
            // Typed reads for the common outputs (float32 and float64 columns), so a million rows box nothing.
            if (predictions.Missing == null && predictions.Values is float[] f32)
                for (int r = 0; r < y.Length; r++) Add(y[r], f32[r]);
            else if (predictions.Missing == null && predictions.Values is double[] f64)
                for (int r = 0; r < y.Length; r++) Add(y[r], f64[r]);
            else
                for (int r = 0; r < y.Length; r++) Add(y[r], ToDouble(predictions.Get(r), firstRow + r));

            void Add(double target, double prediction)
            {
                _regression!.Add(target, prediction);
                sample?.Add(target, prediction);
            }
        }

        private double ToDouble(object? value, long row) => value switch
        {
            double d => d,
            float f => f,
            null => double.NaN,
            string s when double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => d,
            IConvertible c when value is not string and not bool => c.ToDouble(CultureInfo.InvariantCulture),
            _ => throw new EvaluationException($"Model '{Scorer.Model.Name}' predicted {value} for row {row:N0}, which is not a number, so it " +
                "cannot be evaluated as a regressor.")
            { Row = row, Column = "prediction" },
        };

        private void AddClassification(long firstRow, ColumnData target, ColumnData predictions, Frame table, ScoredWithProbabilities scored)
        {
            IReadOnlyList<string>? classes = null;
            if (_classifier == null)
            {
                classes = scored.Probabilities?.Classes.Select(LabelKey.Of).ToList() ?? OnnxProbabilityClasses(table);
                if (classes == null) _noProbabilities = scored.NoProbabilitiesReason ?? "the model gives no class probabilities";
                _classifier = new ClassifierMetrics(options.PositiveLabel == null ? null : LabelKey.Of(options.PositiveLabel), classes);
            }
            var row = _probabilityColumns == null ? null : new double[_probabilityColumns.Count];
            for (int r = 0; r < target.Length; r++)
            {
                ReadOnlySpan<double> probabilities = default;
                if (scored.Probabilities != null) probabilities = scored.Probabilities.Row(r);
                else if (row != null)
                {
                    for (int k = 0; k < row.Length; k++)
                        row[k] = Convert.ToDouble(table.Columns[_probabilityColumns![k]].Get(r) ?? double.NaN, CultureInfo.InvariantCulture);
                    probabilities = row;
                }
                var prediction = predictions.Get(r)
                    ?? throw new EvaluationException($"Model '{Scorer.Model.Name}' predicted no label for row {firstRow + r:N0}.")
                    {
                        Row = firstRow + r,
                        Column = "prediction",
                    };
                _classifier!.Add(LabelKey.Of(target.Get(r)), LabelKey.Of(prediction), probabilities);
            }
        }

        /// <summary>
        /// An ONNX classifier's probability output, as the table's columns name it: <c>name_key</c> for ZipMap's
        /// dictionaries (the key is the class) and <c>name_0</c>... for a tensor (column i is class i).
        /// </summary>
        private List<string>? OnnxProbabilityClasses(Frame table)
        {
            var names = options.ProbabilityOutput != null ? [options.ProbabilityOutput] : new[] { "probabilities", "output_probability" };
            foreach (var name in names)
            {
                var columns = new List<int>();
                var classes = new List<string>();
                for (int c = 0; c < table.Names.Count; c++)
                {
                    if (c == _predictionIndex || !table.Names[c].StartsWith(name + "_", StringComparison.Ordinal)) continue;
                    columns.Add(c);
                    classes.Add(LabelKey.Of(table.Names[c][(name.Length + 1)..]));
                }
                if (columns.Count > 0)
                {
                    _probabilityColumns = columns;
                    return classes;
                }
            }
            if (options.ProbabilityOutput != null)
                throw new EvaluationException($"Model '{Scorer.Model.Name}' has no output '{options.ProbabilityOutput}' of class " +
                    "probabilities; its " +
                    $"outputs are {ColumnPlan.PyList(table.Names)}.")
                { Column = options.ProbabilityOutput };
            return null;
        }

        private int PredictionColumn(Frame table)
        {
            if (options.PredictionColumn != null)
            {
                int i = table.IndexOf(options.PredictionColumn);
                return i >= 0
                    ? i
                    : throw new EvaluationException($"Model '{Scorer.Model.Name}' returned no column '{options.PredictionColumn}'; its " +
                    $"columns are {ColumnPlan.PyList(table.Names)}.")
                    { Column = options.PredictionColumn };
            }
            if (table.Columns.Count == 1) return 0;
            foreach (var name in new[] { "prediction", "label", "output_label", "predicted_label" })
                if (table.IndexOf(name) is int i and >= 0) return i;
            return 0;
        }

        public ModelMetrics Finish(Action<string>? warnings)
        {
            var name = Scorer.Model.Name;
            void Warn(string msg) => warnings?.Invoke($"Model '{name}': {msg}");
            if (_regression != null)
            {
                var metrics = _regression.Compute(Warn);
                return new ModelMetrics(Scorer.Model, WithScore(metrics, "r2_score"), null, _sample);
            }
            var classifier = _classifier!;
            if (_noProbabilities != null)
                Warn($"log_loss, roc_auc and precision_recall_auc are left out, as MLflow leaves them out: {_noProbabilities}.");
            if (classifier.UnknownPredictionLabels.Count > 0)
                Warn(
                    "it predicted labels that no target has: " +
                    $"{ColumnPlan.PyList(classifier.UnknownPredictionLabels.Order(StringComparer.Ordinal))}.");
            var computed = classifier.Compute(Warn);
            return new ModelMetrics(Scorer.Model, WithScore(computed, "accuracy_score"), classifier, null);
        }

        /// <summary>
        /// MLflow adds the raw scikit-learn model's own <c>score</c> first, for mlflow.sklearn models: accuracy for
        /// classifiers and R² for regressors, the scores scikit-learn's mixins define.
        /// </summary>
        private IReadOnlyDictionary<string, double> WithScore(IReadOnlyDictionary<string, double> metrics, string same)
        {
            var loader = Scorer.Model.Flavors.TryGetValue("python_function", out var pf)
                ? (pf.Attributes.TryGetValue("loader_module", out var l) ? l as string : null) : null;
            var all = new Dictionary<string, double>(StringComparer.Ordinal);
            if (loader == "mlflow.sklearn" && metrics.TryGetValue(same, out var value)) all["score"] = value;
            // MLflow's order: the binary confusion counts come before the common classifier metrics.
            foreach (var count in new[] { "true_negatives", "false_positives", "false_negatives", "true_positives" })
                if (metrics.TryGetValue(count, out var c)) all[count] = c;
            foreach (var (k, v) in metrics) all.TryAdd(k, v);
            return all;
        }
    }
}

/// <summary>
/// A fixed-size uniform sample of (target, prediction) pairs (reservoir sampling with a fixed seed), so a regressor's
/// plots cost the same memory for any number of rows.
/// </summary>
public sealed class RegressionSample(int capacity)
{
    private readonly List<(double Target, double Prediction)> _items = new(Math.Min(capacity, 4096));
    private readonly Random _random = new(20_231_207);
    private long _seen;

    public IReadOnlyList<(double Target, double Prediction)> Items => _items;

    public void Add(double target, double prediction)
    {
        _seen++;
        if (_items.Count < capacity) _items.Add((target, prediction));
        else if (_random.NextInt64(_seen) is var j && j < capacity) _items[(int)j] = (target, prediction);
    }
}

/// <summary>Evaluation data that is not a CSV stream.</summary>
public static class EvaluationInputs
{
    /// <summary>A JSON file holding a table in MLflow's request forms (<c>dataframe_split</c> or <c>dataframe_records</c>).</summary>
    public static Frame JsonTable(string path, ColumnPlanner planner)
    {
        using var request = ScoringRequest.ParseFile(path);
        return request.Format switch
        {
            "dataframe_split" => Scoring.JsonTable.FromSplit(request.Data).ToFrame(planner),
            "dataframe_records" => Scoring.JsonTable.FromRecords(request.Data, request.Format).ToFrame(planner),
            _ => throw new EvaluationException($"{path} holds '{request.Format}', but evaluation data is a table with a target column: give it as " +
                "'dataframe_split' or 'dataframe_records'."),
        };
    }
}
