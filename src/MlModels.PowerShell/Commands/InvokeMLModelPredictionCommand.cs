using System.Collections;
using System.Data;
using System.Management.Automation;
using MlModels.Core.Format;
using MlModels.Core.Scoring;
using MlModels.Core.Scoring.Onnx;
using MlModels.Core.Scoring.Python;
using MlModels.PowerShell.Internal;

namespace MlModels.PowerShell.Commands;

/// <summary>Scores a model on CSV, MLflow JSON requests, pipeline objects or its input example.</summary>
[Cmdlet(VerbsLifecycle.Invoke, "MLModelPrediction", DefaultParameterSetName = CsvSet, SupportsShouldProcess = true)]
[OutputType(typeof(PSObject))]
public sealed class InvokeMLModelPredictionCommand : MLModelCmdlet
{
    // Each input has two sets: the model by -Path (wildcards) or by -LiteralPath.
    private const string CsvSet = "Csv";
    private const string JsonSet = "Json";
    private const string ExampleSet = "Example";
    private const string ObjectSet = "Object";
    private const string Literal = "Literal";
    private const string CsvLiteralSet = CsvSet + Literal;
    private const string JsonLiteralSet = JsonSet + Literal;
    private const string ExampleLiteralSet = ExampleSet + Literal;
    private const string ObjectLiteralSet = ObjectSet + Literal;

    private readonly List<IReadOnlyList<KeyValuePair<string, object?>>> _rows = [];
    private long _objectRowsDone;
    private MLModel? _objectModel;
    private IScorer? _objectScorer;
    private bool _objectScorerOwned;
    // Decided once, in BeginProcessing: none of it depends on the pipeline item.
    private string _input = CsvSet;
    private PythonOptions _python = null!;
    private IReadOnlyDictionary<string, object?>? _params;
    // Not PredictionFormat?: a field of a Core value type would load Core during PowerShell's type scan.
    private bool? _json;
    private MLModel? _pathModel;
    private string? _inputFile;
    private string? _outputTarget;
    private PredictionFileWriter? _objectWriter;

    [Parameter(ParameterSetName = CsvSet, ValueFromPipeline = true)]
    [Parameter(ParameterSetName = JsonSet, ValueFromPipeline = true)]
    [Parameter(ParameterSetName = ExampleSet, ValueFromPipeline = true)]
    [Parameter(ParameterSetName = ObjectSet, ValueFromPipeline = true)]
    // Not in the literal sets, which name the model by its folder: a piped model then picks the -Path sets.
    public MLModel? Model { get; set; }

    /// <summary>The model folder, instead of a model object; wildcards are resolved.</summary>
    [Parameter(ParameterSetName = CsvSet)]
    [Parameter(ParameterSetName = JsonSet)]
    [Parameter(ParameterSetName = ExampleSet)]
    [Parameter(ParameterSetName = ObjectSet)]
    [Alias("ModelPath")]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    /// <summary>The model folder, taken exactly as written (no wildcards).</summary>
    [Parameter(Mandatory = true, ParameterSetName = CsvLiteralSet)]
    [Parameter(Mandatory = true, ParameterSetName = JsonLiteralSet)]
    [Parameter(Mandatory = true, ParameterSetName = ExampleLiteralSet)]
    [Parameter(Mandatory = true, ParameterSetName = ObjectLiteralSet)]
    [Alias("PSPath", "LP")]
    [ValidateNotNullOrEmpty]
    public string? LiteralPath { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = CsvSet)]
    [Parameter(Mandatory = true, ParameterSetName = CsvLiteralSet)]
    public string InputCsv { get; set; } = "";

    [Parameter(Mandatory = true, ParameterSetName = JsonSet)]
    [Parameter(Mandatory = true, ParameterSetName = JsonLiteralSet)]
    public string InputJson { get; set; } = "";

    [Parameter(Mandatory = true, ParameterSetName = ExampleSet)]
    [Parameter(Mandatory = true, ParameterSetName = ExampleLiteralSet)]
    public SwitchParameter UseInputExample { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = ObjectSet, ValueFromPipeline = true)]
    [Parameter(Mandatory = true, ParameterSetName = ObjectLiteralSet, ValueFromPipeline = true)]
    public object InputObject { get; set; } = null!;

    [Parameter]
    public string? OutputPath { get; set; }

    // Text, not Core's enum: a Core value type in a field of this public class would make PowerShell's type scan
    // load Core before the module's load context is hooked up.
    [Parameter]
    [ValidateSet("Csv", "Json")]
    public string? OutputFormat { get; set; }

    [Parameter]
    public SwitchParameter IncludeInput { get; set; }

    /// <summary>Rows per batch; 0 (the default) lets Core choose by the model (PredictionEngine.BatchSizeFor).</summary>
    [Parameter]
    [ValidateRange(0, 10_000_000)]
    public int BatchSize { get; set; }

    /// <summary>Threads ONNX Runtime may use inside one batch (0: its default).</summary>
    [Parameter]
    [ValidateRange(0, 1024)]
    public int ThrottleLimit { get; set; }

    [Parameter]
    public Hashtable? Params { get; set; }

    /// <summary>The Python that runs python_function models (else MLMODELS_PYTHON, else python3/python on PATH).</summary>
    [Parameter]
    public string? PythonPath { get; set; }

    /// <summary>Local (the chosen Python as it is), VirtualEnv (a cached venv from the model's requirements) or Conda.</summary>
    [Parameter]
    [ValidateSet("Local", "VirtualEnv", "Conda")]
    public string EnvManager { get; set; } = "Local";

    /// <summary>Seconds a Python worker may take for one batch before it is stopped.</summary>
    [Parameter]
    [ValidateRange(1, 86_400)]
    public int TimeoutSec { get; set; } = 60;

    /// <summary>Starts a Python worker for this call alone and stops it after, instead of using (and keeping) a warm one.</summary>
    [Parameter]
    public SwitchParameter NoCache { get; set; }

    /// <summary>Replaces an existing -OutputPath file.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void BeginProcessing()
    {
        bool literal = ParameterSetName.EndsWith(Literal, StringComparison.Ordinal);
        _input = literal ? ParameterSetName[..^Literal.Length] : ParameterSetName;
        _python = new PythonOptions(PythonPath, Enum.Parse<MlModels.Core.Scoring.Python.EnvManager>(EnvManager), TimeSpan.FromSeconds(TimeoutSec));
        _params = Params == null ? null : (IReadOnlyDictionary<string, object?>?)ToPlain(Params);
        _json = OutputFormat == null ? null : OutputFormat.Equals("Json", StringComparison.OrdinalIgnoreCase);
        // Paths resolve here, on the pipeline thread, once; the scoring itself runs on a worker.
        var modelPath = literal ? LiteralPath : Path;
        if (modelPath != null) _pathModel = ModelFromArguments(null, modelPath, literal);
        _inputFile = _input switch
        {
            CsvSet => ResolveExisting([InputCsv], literal: false).FirstOrDefault(),
            JsonSet => ResolveExisting([InputJson], literal: false).FirstOrDefault(),
            _ => "",
        };
        _outputTarget = OutputPath == null ? null : ResolveTarget(OutputPath);
    }

    protected override void ProcessRecord()
    {
        if (_input == ObjectSet)
        {
            // A model piped in with -InputObject given by name binds here too; it is the model, not a row.
            if (InputObject == null || Unwrap(InputObject) is MLModel) return;
            _rows.AddRange(Rows(InputObject));
            if (_rows.Count >= PredictionEngine.BatchSizeFor(_objectModel ?? Model ?? _pathModel, BatchSize)) FlushObjects();
            return;
        }
        if (_inputFile == null) return; // the input file was not found: reported once, in BeginProcessing
        var model = ResolveModel();
        if (model == null) return;
        try
        {
            if (!ConfirmEnvironment(model, PythonPath, _python.EnvManager)) return;
            if (_outputTarget != null && !ShouldProcess(_outputTarget, $"Write predictions of model '{model.Name}'")) return;
            RunPumped(ct =>
            {
                var scorer = OpenScorer(model, out var owned, ct);
                try { ScoreFileInput(model, scorer, ct); }
                finally { if (owned) scorer.Dispose(); }
                return 0;
            });
            DrainWorkerLines();
        }
        catch (Exception ex) when (IsScoringError(ex))
        {
            WriteError(ScoringError(ex, model));
        }
    }

    protected override void EndProcessing()
    {
        if (_input != ObjectSet) return;
        try
        {
            if (_rows.Count > 0 || _objectRowsDone == 0) FlushObjects();
            _objectWriter?.Commit();
        }
        finally
        {
            _objectWriter?.Dispose();
            if (_objectScorerOwned) _objectScorer?.Dispose();
            DrainWorkerLines();
        }
    }

    protected override void StopProcessing()
    {
        base.StopProcessing();
        if (_objectScorerOwned && _objectScorer is PythonScorer ps) ps.Kill();
    }

    /// <summary>The piped or given model, else the one at -Path/-LiteralPath (null, already reported, when it did not load).</summary>
    private MLModel? ResolveModel() =>
        Model ?? _pathModel ?? (Path == null && LiteralPath == null ? ModelFromArguments(null, null) : null);

    /// <summary>Opens the model's scorer; worker stderr goes to Verbose (Python warnings to Warning) on the pipeline thread.</summary>
    private IScorer OpenScorer(MLModel model, out bool owned, CancellationToken ct)
    {
        var progress = new ProgressRecord(
            ProgressIds.PreparePythonEnvironment,
            "Invoke-MLModelPrediction",
            $"Preparing the Python environment for {model.Name}");
        using var onnxLog = RouteOnnxRuntimeLog();
        var scorer = PredictionEngine.ScorerFor(model, new OnnxScorerOptions(ThrottleLimit), _python,
            msg => Post(() => WriteWarning(msg)),
            QueueWorkerLine,
            new SyncProgress<string>(line => Post(() =>
            {
                progress.StatusDescription = line.Length > 100 ? line[..100] : line;
                WriteProgress(progress);
            })),
            out owned, ct, NoCache ? null : PythonWorkerCache.Shared, QueueWorkerLine);
        return scorer;
    }


    private void ScoreFileInput(MLModel model, IScorer scorer, CancellationToken ct)
    {
        var warn = (string msg) => Post(() => WriteWarning(msg));
        if (_input == CsvSet)
        {
            var parameters = PredictionEngine.ParamsFor(model, null, _params, warn);
            if (parameters.Count > 0) Post(() => WriteVerbose($"Params: {string.Join(", ", parameters.Select(kv => $"{kv.Key}={kv.Value}"))}"));
            var frames = PredictionEngine.CsvFrames(scorer, _inputFile!, PredictionEngine.BatchSizeFor(model, BatchSize), warn, ct);
            ScoreFrames(scorer, frames, parameters, ct);
            return;
        }
        // A JSON request (or the input example, which is one) is scored whole, as MLflow does; -Params adds to its params.
        using var request = _input == JsonSet ? ScoringRequest.ParseFile(_inputFile!) : PredictionEngine.ExampleRequest(model);
        // A file is read as mlflow models predict reads it (without the schema); the input example as the server would.
        var input = PredictionEngine.FromRequest(scorer, request, warn, asPredictCommand: _input == JsonSet);
        var prediction = scorer.Predict(input, PredictionEngine.ParamsFor(model, request, _params, warn), ct);
        if (OutputPath != null)
        {
            using var writer = CreateWriter(request.IsUnified);
            writer.Write(input is FrameInput f ? f.Frame : null, prediction);
            writer.Commit();
        }
        else Post(() => Emit(input is FrameInput f ? f.Frame : null, prediction));
    }

    private void ScoreFrames(IScorer scorer, IEnumerable<Frame> frames, IReadOnlyDictionary<string, object?> parameters, CancellationToken ct)
    {
        var progress = new ProgressRecord(ProgressIds.Prediction, "Invoke-MLModelPrediction", $"Scoring {scorer.Model.Name}");
        using var writer = OutputPath == null ? null : CreateWriter();
        var last = DateTime.MinValue;
        // Scoring runs one batch ahead of writing, on its own thread, as parsing runs ahead of scoring.
        foreach (var (input,
            output) in PredictionEngine.Prefetch(PredictionEngine.ScoreFrames(scorer, frames, new SyncProgress<PredictionProgress>(p =>
        {
            if ((DateTime.UtcNow - last).TotalMilliseconds < 250) return;
            last = DateTime.UtcNow;
            Post(() =>
            {
                progress.StatusDescription = $"{p.RowsDone:N0} rows scored, {p.RowsPerSecond:N0} rows/s";
                WriteProgress(progress);
            });
        }), ct, parameters, fromText: true, asPredictCommand: true), 2, ct))
        {
            if (writer != null) writer.Write(input, output);
            else Post(() => Emit(input, output));
        }
        writer?.Commit();
        progress.RecordType = ProgressRecordType.Completed;
        Post(() => WriteProgress(progress));
    }

    private PredictionFileWriter CreateWriter(bool unwrapped = false)
    {
        var target = _outputTarget ??= ResolveTarget(OutputPath!);
        var format = _json is bool json ? json ? PredictionFormat.Json : PredictionFormat.Csv : PredictionFileWriter.FormatFor(target);
        return format == PredictionFormat.Json
            ? new JsonPredictionWriter(target, IncludeInput, Force, unwrapped)
            : PredictionFileWriter.Create(target, format, IncludeInput, Force);
    }

    private void FlushObjects()
    {
        var model = _objectModel ??= ResolveModel();
        if (model == null) { _rows.Clear(); return; }
        if (_rows.Count == 0) return;
        try
        {
            if (_objectScorer == null)
            {
                if (!ConfirmEnvironment(model, PythonPath, _python.EnvManager)) { _rows.Clear(); return; }
                _objectScorer = OpenScorer(model, out _objectScorerOwned, CancelToken);
            }
            var scorer = _objectScorer;
            var parameters = PredictionEngine.ParamsFor(model, null, _params, WriteWarning);
            var frame = ObjectInput.ToFrame(_rows, PredictionEngine.Planner(scorer, _objectRowsDone == 0 ? WriteWarning : null), _objectRowsDone + 1);
            foreach (var (input, output) in PredictionEngine.ScoreFrames(scorer, [frame], null, CancelToken, parameters))
            {
                if (OutputPath != null) (_objectWriter ??= CreateWriter()).Write(input, output);
                else Emit(input, output);
            }
            _objectRowsDone += _rows.Count;
        }
        catch (Exception ex) when (IsScoringError(ex))
        {
            WriteError(ScoringError(ex, model));
        }
        finally
        {
            _rows.Clear();
            DrainWorkerLines();
        }
    }

    private static IEnumerable<IReadOnlyList<KeyValuePair<string, object?>>> Rows(object input)
    {
        var value = Unwrap(input);
        switch (value)
        {
            case DataTable table:
                foreach (DataRow row in table.Rows) yield return RowOf(row);
                break;
            case DataRow row:
                yield return RowOf(row);
                break;
            default:
                yield return RowOf(input);
                break;
        }
    }

    private static IReadOnlyList<KeyValuePair<string, object?>> RowOf(DataRow row) =>
        row.Table.Columns.Cast<DataColumn>().Select(c => KeyValuePair.Create(c.ColumnName, row[c] is DBNull ? null : row[c])).ToList();

    /// <summary>
    /// Predictions as objects: one per row where the result is one value per row (a 1-D result in a "prediction"
    /// property, other results under their own names), else the value itself (a dict as one object).
    /// </summary>
    private void Emit(Frame? input, Prediction prediction)
    {
        if (prediction is DictPrediction dict)
        {
            var obj = new PSObject();
            foreach (var (name, value) in dict.Items) obj.Properties.Add(new PSNoteProperty(name, value.ToPlain()));
            WriteObject(obj);
            return;
        }
        var output = prediction.ToTable();
        if (output == null)
        {
            WriteObject(prediction.ToPlain(), enumerateCollection: true);
            return;
        }
        bool withInput = IncludeInput && input != null && input.RowCount == output.RowCount;
        for (int r = 0; r < output.RowCount; r++)
        {
            var obj = new PSObject();
            if (withInput)
                for (int c = 0; c < input!.Columns.Count; c++) obj.Properties.Add(new PSNoteProperty(input.Names[c], input.Columns[c].Get(r)));
            for (int c = 0; c < output.Columns.Count; c++)
            {
                var name = output.Names[c];
                if (withInput && input!.IndexOf(name) >= 0) name = "prediction_" + name;
                obj.Properties.Add(new PSNoteProperty(name, output.Columns[c].Get(r)));
            }
            WriteObject(obj);
        }
    }

    private static bool IsScoringError(Exception ex) =>
        ex is PythonWorkerException or SchemaViolationException or ModelPredictionException or PredictionFailedException or MLModelFormatException
            or IOException or InvalidOperationException or UnauthorizedAccessException or OnnxUnsupportedException;

    private ErrorRecord ScoringError(Exception ex, MLModel model)
    {
        var python = ex as PythonWorkerException ?? ex.InnerException as PythonWorkerException
            ?? ex.InnerException?.InnerException as PythonWorkerException;
        if (python?.PythonTraceback is string tb) WriteVerbose(tb);
        var record = ScoringErrorRecord(ex, model);
        // Core says what the prediction's shape rules out; the way around it is this cmdlet's parameters.
        return (ex as PredictionShapeException ?? ex.InnerException as PredictionShapeException)?.Problem switch
        {
            PredictionShapeProblem.NoTableForm => Errors.WithAdvice(record, "Write it as JSON: a .json -OutputPath, or -OutputFormat Json."),
            PredictionShapeProblem.BatchesDiffer => Errors.WithAdvice(record, "Score the input in one batch: a -BatchSize at least its row count."),
            PredictionShapeProblem.OutputNotPerRow => Errors.WithAdvice(record,
                "Score it with -InputJson and an 'inputs' request to get the raw tensor."),
            _ => record,
        };
    }

    // Ids follow MLflow's error classes: input that cannot be read (BAD_REQUEST), input that breaks the schema
    // (INVALID_PARAMETER_VALUE), a model that raised; the exception's ErrorCode property carries MLflow's code.
    private static ErrorRecord ScoringErrorRecord(Exception ex, MLModel model) => ((ex as PredictionFailedException)?.InnerException ?? ex) switch
    {
        SchemaViolationException { ErrorCode: ScoringErrorCodes.BadRequest } => Errors.Record(ex, "InvalidInput", ErrorCategory.InvalidData, model),
        SchemaViolationException => Errors.Record(ex, "SchemaViolation", ErrorCategory.InvalidData, model),
        ModelPredictionException => Errors.Record(ex, "ModelPredictFailed", ErrorCategory.InvalidResult, model),
        PythonWorkerException pw => Errors.FromPythonWorker(ex, pw, model),
        _ when ex is PredictionFailedException => Errors.Record(ex, "PredictionFailed", ErrorCategory.InvalidResult, model),
        TargetExistsException => Errors.Exists(ex, "OutputExists", model),
        _ => Errors.FromException(ex, model),
    };
}
