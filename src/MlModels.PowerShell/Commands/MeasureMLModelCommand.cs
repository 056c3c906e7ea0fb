using System.Collections;
using System.Management.Automation;
using MlModels.Core.Evaluation;
using MlModels.Core.Format;
using MlModels.Core.Scoring;
using MlModels.Core.Scoring.Onnx;
using MlModels.Core.Scoring.Python;
using MlModels.Core.Tracking;
using MlModels.PowerShell.Internal;

namespace MlModels.PowerShell.Commands;

/// <summary>
/// MLflow's model evaluation (mlflow.evaluate's default evaluator) for regressors and classifiers: metrics with
/// MLflow's names, a baseline and validation thresholds that gate a pipeline, plots, and the results logged to a run.
/// </summary>
[Cmdlet(VerbsDiagnostic.Measure, "MLModel", DefaultParameterSetName = CsvSet, SupportsShouldProcess = true)]
[OutputType(typeof(ModelEvaluation))]
public sealed class MeasureMLModelCommand : TrackingCmdlet
{
    private const string CsvSet = "Csv";
    private const string JsonSet = "Json";
    private const string ObjectSet = "Object";

    private readonly List<IReadOnlyList<KeyValuePair<string, object?>>> _rows = [];
    private readonly List<PythonScorer> _running = [];
    private MLModel? _pathModel;
    private string? _inputFile;
    private bool _evaluated;

    [Parameter(ParameterSetName = CsvSet, ValueFromPipeline = true)]
    [Parameter(ParameterSetName = JsonSet, ValueFromPipeline = true)]
    [Parameter(ParameterSetName = ObjectSet, ValueFromPipeline = true)]
    public MLModel? Model { get; set; }

    /// <summary>The model folder, instead of a model object; wildcards are resolved.</summary>
    [Parameter]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    /// <summary>The model folder, taken exactly as written.</summary>
    [Parameter]
    [Alias("PSPath", "LP")]
    [ValidateNotNullOrEmpty]
    public string? LiteralPath { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = CsvSet)]
    public string InputCsv { get; set; } = "";

    [Parameter(Mandatory = true, ParameterSetName = JsonSet)]
    public string InputJson { get; set; } = "";

    [Parameter(Mandatory = true, ParameterSetName = ObjectSet, ValueFromPipeline = true)]
    public object InputObject { get; set; } = null!;

    [Parameter(Mandatory = true)]
    [Alias("Targets", "LabelColumn")]
    [ValidateNotNullOrEmpty]
    public string Target { get; set; } = "";

    [Parameter(Mandatory = true)]
    [ValidateSet("Classifier", "Regressor")]
    public string ModelType { get; set; } = "";

    [Parameter]
    public string? PositiveLabel { get; set; }

    [Parameter]
    public string? PredictionColumn { get; set; }

    [Parameter]
    public string? ProbabilityOutput { get; set; }

    /// <summary>The champion to compare with: a model object or its folder.</summary>
    [Parameter]
    public object? Baseline { get; set; }

    [Parameter]
    public Hashtable? Threshold { get; set; }

    [Parameter]
    public string? OutputPath { get; set; }

    [Parameter]
    public SwitchParameter Force { get; set; }

    [Parameter]
    public string? RunId { get; set; }

    [Parameter]
    [Alias("ExperimentName")]
    public string? Experiment { get; set; }

    [Parameter]
    public string? RunName { get; set; }

    [Parameter]
    public Hashtable? Params { get; set; }

    [Parameter]
    [ValidateRange(0, 10_000_000)]
    public int BatchSize { get; set; }

    [Parameter]
    public string? PythonPath { get; set; }

    [Parameter]
    [ValidateSet("Local", "VirtualEnv", "Conda")]
    public string EnvManager { get; set; } = "Local";

    [Parameter]
    [ValidateRange(1, 86_400)]
    public int TimeoutSec { get; set; } = 60;

    protected override void BeginProcessing()
    {
        if (Path != null && LiteralPath != null)
            ThrowTerminatingError(Errors.Record(new ArgumentException("Give the model by -Path or by -LiteralPath, not both."), "AmbiguousModelPath",
                ErrorCategory.InvalidArgument, Path));
        if (RunId != null && Experiment != null)
            ThrowTerminatingError(Errors.Record(new ArgumentException("Log to an existing run (-RunId) or to a new run in an experiment " +
                "(-Experiment), not both."), "AmbiguousRun", ErrorCategory.InvalidArgument, RunId));
        if (Path != null || LiteralPath != null)
        {
            _pathModel = ModelFromArguments(null, LiteralPath ?? Path, literal: LiteralPath != null);
            if (_pathModel == null) ThrowTerminatingError(Errors.Record(new ItemNotFoundException("The model was not found."), "ModelNotFound",
                ErrorCategory.ObjectNotFound, LiteralPath ?? Path));
        }
        var input = ParameterSetName == CsvSet ? InputCsv : ParameterSetName == JsonSet ? InputJson : null;
        if (input != null)
        {
            _inputFile = ResolveExisting([input], literal: false).FirstOrDefault();
            if (_inputFile == null) ThrowTerminatingError(Errors.Record(new FileNotFoundException($"The input file '{input}' was not found."),
                "InputNotFound", ErrorCategory.ObjectNotFound, input));
        }
    }

    protected override void ProcessRecord()
    {
        if (ParameterSetName == ObjectSet)
        {
            if (InputObject != null && Unwrap(InputObject) is not MLModel) _rows.Add(RowOf(InputObject));
            return;
        }
        var model = Model ?? _pathModel;
        if (model == null) ThrowTerminatingError(Errors.Record(new ArgumentException("Give the model: pipe it from Get-MLModel, or use -Path."),
            "ModelRequired", ErrorCategory.InvalidArgument, null));
        Evaluate(model!);
    }

    protected override void EndProcessing()
    {
        try
        {
            if (ParameterSetName == ObjectSet && !_evaluated)
            {
                var model = Model ?? _pathModel;
                if (model == null) ThrowTerminatingError(Errors.Record(new ArgumentException("Give the model with -Model or -Path."),
                    "ModelRequired", ErrorCategory.InvalidArgument, null));
                Evaluate(model!);
            }
        }
        finally { base.EndProcessing(); }
    }

    protected override void StopProcessing()
    {
        base.StopProcessing();
        lock (_running) foreach (var p in _running) p.Kill();
    }

    private void Evaluate(MLModel model)
    {
        _evaluated = true;
        var baseline = BaselineModel();
        var type = ModelType == "Regressor" ? EvaluationModelType.Regressor : EvaluationModelType.Classifier;
        var thresholds = Thresholds();
        try { EvaluationJob.CheckThresholds(thresholds, type, baseline != null); }
        catch (EvaluationException ex) { ThrowTerminatingError(Errors.Record(ex, "InvalidThreshold", ErrorCategory.InvalidArgument, Threshold)); }
        var envManager = Enum.Parse<MlModels.Core.Scoring.Python.EnvManager>(EnvManager);
        if (!ConfirmEnvironment(model, PythonPath, envManager) || baseline != null && !ConfirmEnvironment(baseline, PythonPath, envManager)) return;
        var output = OutputPath == null ? null : ResolveTarget(OutputPath);
        if (output != null && !ShouldProcess(output, $"Write the evaluation of model '{model.Name}'")) return;
        bool logging = RunId != null || Experiment != null;
        var logger = logging
            ? new RunLogger(Client, msg => Post(() => WriteWarning(msg))) { Repositories = MlModels.Deploy.Artifacts.CloudArtifactStores.All(Client) }
            : null;
        if (logger != null && !ShouldProcessCalls($"Log the evaluation of model '{model.Name}'",
            RunLogger.Plan(
                RunId,
                Experiment,
                RunName,
                EvaluationJob.KnownMetrics(type).ToDictionary(n => n, _ => 0.0),
                null), "Log the evaluation to MLflow?", "Measure-MLModel")) return;

        ModelEvaluation? evaluation = null;
        try
        {
            evaluation = RunPumped(ct => Run(model, baseline, type, thresholds, output, logger, ct));
        }
        catch (Exception ex) when (ex is not PipelineStoppedException and not OperationCanceledException)
        {
            DrainWorkerLines();
            ThrowTerminatingError(EvaluationError(ex, model));
        }
        DrainWorkerLines();
        if (!evaluation!.Passed)
        {
            var failed = new ModelValidationFailedException(evaluation.Validation.Where(v => !v.Passed).ToList());
            ThrowTerminatingError(Errors.Record(failed, "ModelValidationFailed", ErrorCategory.InvalidResult, evaluation));
        }
        WriteObject(evaluation);
    }

    private ModelEvaluation Run(MLModel model, MLModel? baselineModel, EvaluationModelType type,
        IReadOnlyList<KeyValuePair<string, MetricThreshold>> thresholds, string? output, RunLogger? logger, CancellationToken ct)
    {
        var python = new PythonOptions(PythonPath, Enum.Parse<MlModels.Core.Scoring.Python.EnvManager>(EnvManager), TimeSpan.FromSeconds(TimeoutSec));
        var scorers = new List<(IScorer Scorer, bool Owned)>();
        RunTarget? run = null;
        try
        {
            scorers.Add((Open(model, python, ct, out var owned), owned));
            if (baselineModel != null) scorers.Add((Open(baselineModel, python, ct, out var bOwned), bOwned));
            if (logger != null) run = logger.OpenAsync(RunId, Experiment, RunName, ct).GetAwaiter().GetResult();
            var progress = new ProgressRecord(ProgressIds.Evaluation, "Measure-MLModel", $"Scoring {model.Name}");
            var last = DateTime.MinValue;
            var request = new EvaluationJobRequest
            {
                Candidate = scorers[0].Scorer,
                Baseline = scorers.Count > 1 ? scorers[1].Scorer : null,
                Options = new EvaluationOptions
                {
                    ModelType = type,
                    Target = Target,
                    PositiveLabel = PositiveLabel,
                    PredictionColumn = PredictionColumn,
                    ProbabilityOutput = ProbabilityOutput,
                    Params = Params == null ? null : (IReadOnlyDictionary<string, object?>?)ToPlain(Params),
                },
                Thresholds = thresholds,
                OutputPath = output,
                Force = Force,
                KeepArtifacts = run != null,
                RunArtifactUri = run?.ArtifactUri,
                InputFile = _inputFile,
            };
            var evaluation = EvaluationJob.Run(request, Batches(model, ct), msg => Post(() => WriteWarning(msg)),
                new SyncProgress<PredictionProgress>(p =>
                {
                    if ((DateTime.UtcNow - last).TotalMilliseconds < 250) return;
                    last = DateTime.UtcNow;
                    Post(() =>
                    {
                        progress.StatusDescription = $"{p.RowsDone:N0} rows scored, {p.RowsPerSecond:N0} rows/s";
                        WriteProgress(progress);
                    });
                }),
                ct);
            progress.RecordType = ProgressRecordType.Completed;
            Post(() => WriteProgress(progress));
            if (run != null && logger != null)
            {
                try
                {
                    logger.LogEvaluationAsync(run.RunId, evaluation.Metrics, evaluation.ArtifactsFolder, null, ct).GetAwaiter().GetResult();
                    evaluation.RunId = run.RunId;
                }
                finally
                {
                    if (evaluation.OutputPath == null && evaluation.ArtifactsFolder != null)
                        try { Directory.Delete(System.IO.Path.GetDirectoryName(evaluation.ArtifactsFolder)!, true); } catch (IOException) { }
                }
                logger.CloseAsync(run, succeeded: true, ct).GetAwaiter().GetResult();
                run = null;
            }
            return evaluation;
        }
        finally
        {
            if (run != null && logger != null)
                try { logger.CloseAsync(run, succeeded: false, CancellationToken.None).GetAwaiter().GetResult(); } catch (MlflowException) { }
            foreach (var (scorer, owned) in scorers) if (owned) scorer.Dispose();
            lock (_running) _running.Clear();
        }
    }

    /// <summary>The data in batches, read with the evaluation's planner: CSV streamed, a JSON table, or the piped rows.</summary>
    private Func<ColumnPlanner, IEnumerable<Frame>> Batches(MLModel model, CancellationToken ct)
    {
        int size = PredictionEngine.BatchSizeFor(model, BatchSize);
        if (ParameterSetName == CsvSet) return planner => PredictionEngine.Prefetch(CsvInput.Read(_inputFile!, planner, size, ct), 2, ct);
        if (ParameterSetName == JsonSet) return planner => [EvaluationInputs.JsonTable(_inputFile!, planner)];
        return planner => _rows.Chunk(size).Select((chunk, i) => ObjectInput.ToFrame(chunk, planner, (long)i * size + 1));
    }

    private IScorer Open(MLModel model, PythonOptions python, CancellationToken ct, out bool owned)
    {
        var scorer = PredictionEngine.ScorerFor(model, new OnnxScorerOptions(0), python, msg => Post(() => WriteWarning(msg)),
            QueueWorkerLine, null, out owned, ct, PythonWorkerCache.Shared,
            QueueWorkerLine);
        if (scorer is PythonScorer p) lock (_running) _running.Add(p);
        return scorer;
    }


    private MLModel? BaselineModel()
    {
        switch (Unwrap(Baseline))
        {
            case null: return null;
            case MLModel m: return m;
            case string path:
                var loaded = ModelFromArguments(null, path);
                if (loaded == null) ThrowTerminatingError(Errors.Record(new ItemNotFoundException($"The baseline model '{path}' was not found."),
                    "BaselineNotFound", ErrorCategory.ObjectNotFound, path));
                return loaded;
            case var other:
                ThrowTerminatingError(Errors.Record(new ArgumentException($"-Baseline takes a model (from Get-MLModel) or a model folder, not a " +
                    $"{other.GetType().Name}."), "InvalidBaseline", ErrorCategory.InvalidArgument, other));
                return null;
        }
    }

    /// <summary>-Threshold: metric name → @{ Threshold; MinAbsoluteChange; MinRelativeChange; GreaterIsBetter } (GreaterIsBetter required).</summary>
    private List<KeyValuePair<string, MetricThreshold>> Thresholds()
    {
        var list = new List<KeyValuePair<string, MetricThreshold>>();
        if (Threshold == null) return list;
        foreach (DictionaryEntry e in Threshold)
        {
            var name = Unwrap(e.Key)?.ToString() ?? "";
            var spec = ToPlain(e.Value) as IDictionary<string, object?>;
            if (spec == null)
                ThrowTerminatingError(Errors.Record(new ArgumentException($"The threshold for '{name}' must be a hashtable such as " +
                    "@{ Threshold = 0.8; GreaterIsBetter = $true }."), "InvalidThreshold", ErrorCategory.InvalidArgument, name));
            var keys = new Dictionary<string, object?>(spec!, StringComparer.OrdinalIgnoreCase);
            var unknown = keys.Keys.Where(k => k is not ("Threshold" or "MinAbsoluteChange" or "MinRelativeChange" or "GreaterIsBetter"))
                .ToList();
            if (unknown.Count > 0)
                ThrowTerminatingError(Errors
                    .Record(new ArgumentException($"The threshold for '{name}' has unknown keys {string.Join(", ", unknown)}; " +
                        "the keys are Threshold, MinAbsoluteChange, MinRelativeChange and GreaterIsBetter."), "InvalidThreshold",
                        ErrorCategory.InvalidArgument, name));
            if (keys.GetValueOrDefault("GreaterIsBetter") is not bool greater)
            {
                ThrowTerminatingError(Errors.Record(new ArgumentException($"The threshold for '{name}' needs GreaterIsBetter ($true or $false), " +
                    "as MLflow's MetricThreshold requires it."), "InvalidThreshold", ErrorCategory.InvalidArgument, name));
                return list;
            }
            list.Add(KeyValuePair.Create(name, new MetricThreshold
            {
                Threshold = Number(keys, "Threshold", name),
                MinAbsoluteChange = Number(keys, "MinAbsoluteChange", name),
                MinRelativeChange = Number(keys, "MinRelativeChange", name),
                GreaterIsBetter = greater,
            }));
        }
        return list;
    }

    private double? Number(Dictionary<string, object?> keys, string key, string metric)
    {
        var v = keys.GetValueOrDefault(key);
        if (v == null) return null;
        if (v is IConvertible c and not string and not bool) return c.ToDouble(System.Globalization.CultureInfo.InvariantCulture);
        ThrowTerminatingError(Errors.Record(new ArgumentException($"{key} of the threshold for '{metric}' must be a number, not '{v}'."),
            "InvalidThreshold", ErrorCategory.InvalidArgument, metric));
        return null;
    }

    private ErrorRecord EvaluationError(Exception ex, MLModel model)
    {
        var inner = ex is PredictionFailedException pf ? pf.InnerException ?? ex : ex;
        return inner switch
        {
            EvaluationException e => Errors.Record(ex, e.Column == Target ? "TargetColumnInvalid" : "EvaluationFailed", ErrorCategory.InvalidData,
                e.Column ?? (object)model),
            SchemaViolationException => Errors.Record(ex, "SchemaViolation", ErrorCategory.InvalidData, model),
            ModelPredictionException => Errors.Record(ex, "ModelPredictFailed", ErrorCategory.InvalidResult, model),
            PythonWorkerException pw => Errors.FromPythonWorker(ex, pw, model),
            TargetExistsException => Errors.Exists(ex, "OutputExists", OutputPath),
            _ => Errors.FromException(ex, model),
        };
    }
}
