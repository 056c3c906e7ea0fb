using System.Security.Cryptography;
using MlModels.Core.Format;
using MlModels.Core.Scoring;

namespace MlModels.Core.Evaluation;

/// <summary>One evaluation, start to end: the models' scorers, what they are told, the thresholds and where results go.</summary>
public sealed record EvaluationJobRequest
{
    public required IScorer Candidate { get; init; }
    public IScorer? Baseline { get; init; }
    public required EvaluationOptions Options { get; init; }
    /// <summary>Metric name → threshold, in the order given (MLflow's <c>validation_thresholds</c>).</summary>
    public IReadOnlyList<KeyValuePair<string, MetricThreshold>> Thresholds { get; init; } = [];
    /// <summary>The folder the evaluation is saved to (<c>EvaluationResult.save</c>'s layout), or null.</summary>
    public string? OutputPath { get; init; }
    public bool Force { get; init; }
    /// <summary>Draw the plots even without <see cref="OutputPath"/> (they are logged to a run).</summary>
    public bool KeepArtifacts { get; init; }
    /// <summary>The artifact URI of the run the artifacts will be logged to, for <c>artifacts_metadata.json</c>.</summary>
    public string? RunArtifactUri { get; init; }
    /// <summary>The input file, hashed (SHA-256) while it is read, so the result says exactly which data it measured.</summary>
    public string? InputFile { get; init; }
}

/// <summary>What an evaluation found: MLflow's metrics for the candidate (and baseline), the validation, and where the files are.</summary>
public sealed class ModelEvaluation
{
    public required MLModel Model { get; init; }
    public string ModelName => Model.Name;
    public required string ModelType { get; init; }
    public required Dictionary<string, double> Metrics { get; init; }
    public MLModel? BaselineModel { get; init; }
    public Dictionary<string, double>? BaselineMetrics { get; init; }
    public required long RowCount { get; init; }
    public string? InputFile { get; init; }
    public string? InputSha256 { get; init; }
    public string? OutputPath { get; set; }
    /// <summary>The artifact files (plots, per-class metrics, the per-row table); under <c>artifacts/</c> of <see cref="OutputPath"/>.</summary>
    public required IReadOnlyList<string> Artifacts { get; init; }
    public string? RunId { get; set; }
    public required IReadOnlyList<MetricValidationResult> Validation { get; init; }
    public bool Passed => Validation.All(v => v.Passed);
    /// <summary>The folder the artifacts were written to (a temporary one when only logged), for logging.</summary>
    public string? ArtifactsFolder { get; set; }
}

/// <summary>Runs an evaluation as <c>mlflow.evaluate</c> with a baseline and validation thresholds does, without raising.</summary>
public static class EvaluationJob
{
    private static readonly string[] RegressorMetricNames =
    [
        "example_count", "mean_absolute_error", "mean_squared_error", "root_mean_squared_error", "sum_on_target", "mean_on_target",
        "r2_score", "max_error", "mean_absolute_percentage_error", "score",
    ];

    private static readonly string[] ClassifierMetricNames =
    [
        "example_count", "accuracy_score", "recall_score", "precision_score", "f1_score", "true_negatives", "false_positives",
        "false_negatives", "true_positives", "log_loss", "roc_auc", "precision_recall_auc", "score",
    ];

    /// <summary>The metric names MLflow's default evaluator can give a model of this type.</summary>
    public static IReadOnlyList<string> KnownMetrics(EvaluationModelType type) =>
        type == EvaluationModelType.Regressor ? RegressorMetricNames : ClassifierMetricNames;

    /// <summary>Thresholds are checked before any scoring: names the evaluator knows, valid rules, a baseline for the change rules.</summary>
    public static void CheckThresholds(IReadOnlyList<KeyValuePair<string, MetricThreshold>> thresholds, EvaluationModelType type, bool hasBaseline)
    {
        var known = KnownMetrics(type);
        foreach (var (name, t) in thresholds)
        {
            if (!known.Contains(name))
                throw new EvaluationException($"There is no metric '{name}' for a {type.ToString().ToLowerInvariant()}; the metrics are " +
                    $"{string.Join(", ", known)}.")
                { Column = name };
            t.Check(name);
            if (!hasBaseline && (t.MinAbsoluteChange != null || t.MinRelativeChange != null))
                throw new EvaluationException($"The threshold for metric '{name}' sets a minimum change, which is measured against a baseline " +
                    "model, and none was given.")
                { Column = name };
        }
    }

    /// <summary>
    /// Scores the batches, computes the metrics, draws the plots, validates the thresholds and saves the folder (before
    /// any failure is raised, so a failed gate keeps its evidence). <paramref name="openBatches"/> reads the data with
    /// the planner it is given.
    /// </summary>
    public static ModelEvaluation Run(EvaluationJobRequest request, Func<ColumnPlanner, IEnumerable<Frame>> openBatches, Action<string>? warn,
        IProgress<PredictionProgress>? progress = null, CancellationToken ct = default)
    {
        var options = request.Options;
        CheckThresholds(request.Thresholds, options.ModelType, request.Baseline != null);
        if (request.Baseline != null) ModelEvaluator.CheckSameSignature(request.Candidate.Model, request.Baseline.Model);
        var hash = request.InputFile == null ? null : Task.Run(() => Sha256Of(request.InputFile, ct), ct);
        using var folder = request.OutputPath != null ? EvaluationFolder.Create(request.OutputPath, request.Force)
            : request.KeepArtifacts ? EvaluationFolder.Temporary() : null;
        EvaluationOutcome outcome;
        var table = request.OutputPath != null ? folder!.OpenTable() : null;
        try
        {
            var planner = ModelEvaluator.Planner(request.Candidate, options.Target, options.ModelType, warn);
            var run = options with { Table = table, KeepSample = folder != null };
            outcome = ModelEvaluator.Evaluate(request.Candidate, request.Baseline, openBatches(planner), run, warn, progress, ct);
        }
        finally
        {
            table?.Dispose();
        }
        var candidate = new Dictionary<string, double>(outcome.Candidate.Metrics, StringComparer.Ordinal);
        var baseline = outcome.Baseline == null ? null : new Dictionary<string, double>(outcome.Baseline.Metrics, StringComparer.Ordinal);
        var validation = ModelValidation.Validate(request.Thresholds, candidate, baseline, warn);
        string? output = null;
        if (folder != null)
        {
            folder.WritePlots(outcome.Candidate, warn);
            folder.WriteMetrics(candidate);
            folder.WriteMetadata(request.RunArtifactUri);
            if (request.OutputPath != null) output = folder.Commit();
        }
        var evaluation = new ModelEvaluation
        {
            Model = request.Candidate.Model,
            ModelType = options.ModelType.ToString(),
            Metrics = candidate,
            BaselineModel = request.Baseline?.Model,
            BaselineMetrics = baseline,
            RowCount = outcome.RowCount,
            InputFile = request.InputFile,
            InputSha256 = hash?.GetAwaiter().GetResult(),
            OutputPath = output,
            Artifacts = folder?.Artifacts.ToList() ?? [],
            Validation = validation,
        };
        if (folder != null && request.OutputPath == null)
        {
            // Logged from a temporary folder, which the caller removes after logging.
            evaluation.ArtifactsFolder = folder.ArtifactsDir;
            folder.Keep();
        }
        else if (output != null) evaluation.ArtifactsFolder = Path.Combine(output, "artifacts");
        return evaluation;
    }

    private static string Sha256Of(string path, CancellationToken ct)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 20);
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 20];
        int n;
        while ((n = stream.Read(buffer)) > 0)
        {
            ct.ThrowIfCancellationRequested();
            sha.AppendData(buffer.AsSpan(0, n));
        }
        return Convert.ToHexString(sha.GetHashAndReset()).ToLowerInvariant();
    }
}
