using System.Collections;
using System.Data;
using System.Management.Automation;
using MlModels.Core.Format;
using MlModels.Core.Scoring;
using MlModels.Core.Scoring.Onnx;
using MlModels.Core.Scoring.Python;
using System.Collections.Concurrent;
using MlModels.PowerShell.Internal;

namespace MlModels.PowerShell.Commands;

/// <summary>Scores a model on CSV, MLflow JSON requests, pipeline objects or its input example.</summary>
[Cmdlet(VerbsLifecycle.Invoke, "MLModelPrediction", DefaultParameterSetName = CsvSet, SupportsShouldProcess = true)]
[OutputType(typeof(PSObject))]
public sealed class InvokeMLModelPredictionCommand : MLModelCmdlet
{
    private const string CsvSet = "Csv";
    private const string JsonSet = "Json";
    private const string ExampleSet = "Example";
    private const string ObjectSet = "Object";

    private readonly List<IReadOnlyList<KeyValuePair<string, object?>>> _rows = [];
    private long _objectRowsDone;
    private MLModel? _objectModel;
    private IScorer? _objectScorer;
    private bool _objectScorerOwned;
    private readonly ConcurrentQueue<string> _workerLines = new();
    private string? _inputFile;
    private string? _outputTarget;
    private PredictionFileWriter? _objectWriter;

    [Parameter(ParameterSetName = CsvSet, ValueFromPipeline = true)]
    [Parameter(ParameterSetName = JsonSet, ValueFromPipeline = true)]
    [Parameter(ParameterSetName = ExampleSet, ValueFromPipeline = true)]
    [Parameter(ParameterSetName = ObjectSet, ValueFromPipeline = true)]
    public MLModel? Model { get; set; }

    /// <summary>The model folder, instead of a model object.</summary>
    [Parameter]
    [Alias("ModelPath")]
    public string? Path { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = CsvSet)]
    public string InputCsv { get; set; } = "";

    [Parameter(Mandatory = true, ParameterSetName = JsonSet)]
    public string InputJson { get; set; } = "";

    [Parameter(Mandatory = true, ParameterSetName = ExampleSet)]
    public SwitchParameter UseInputExample { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = ObjectSet, ValueFromPipeline = true)]
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

    /// <summary>Rows per batch; 0 (the default) chooses: 10,000 for ONNX models, 50,000 for Python models.</summary>
    [Parameter]
    [ValidateRange(0, 10_000_000)]
    public int BatchSize { get; set; }

    // ONNX batches stay small enough that their columns avoid the large-object heap; Python batches are larger
    // because each one is a round trip to the worker.
    private int BatchFor(IScorer scorer) => BatchSize > 0 ? BatchSize : scorer is PythonScorer ? 50_000 : 10_000;

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

    protected override void ProcessRecord()
    {
        if (ParameterSetName == ObjectSet)
        {
            // A model piped in with -InputObject given by name binds here too; it is the model, not a row.
            if (InputObject == null || Unwrap(InputObject) is MLModel) return;
            _rows.AddRange(Rows(InputObject));
            if (_rows.Count >= (BatchSize > 0 ? BatchSize : 10_000)) FlushObjects();
            return;
        }
        var model = ResolveModel();
        if (model == null) return;
        try
        {
            // Paths resolve here, on the pipeline thread; the scoring itself runs on a worker.
            _inputFile = ParameterSetName switch
            {
                CsvSet => ResolveExisting([InputCsv], literal: false).FirstOrDefault(),
                JsonSet => ResolveExisting([InputJson], literal: false).FirstOrDefault(),
                _ => "",
            };
            if (_inputFile == null) return;
            _outputTarget = OutputPath == null ? null : ResolveTarget(OutputPath);
            if (!ConfirmEnvironment(model)) return;
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
        if (ParameterSetName != ObjectSet) return;
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

    private MLModel? ResolveModel() => Model ??= ModelFromArguments(null, Path);

    private PythonOptions PythonOptions => new(PythonPath, Enum.Parse<MlModels.Core.Scoring.Python.EnvManager>(EnvManager), TimeSpan.FromSeconds(TimeoutSec));

    /// <summary>With VirtualEnv or Conda, making the environment changes the machine: ask first (-WhatIf says what it would install).</summary>
    private bool ConfirmEnvironment(MLModel model)
    {
        if (EnvManager == "Local" || PredictionEngine.IsNative(model) && PythonPath == null) return true;
        try
        {
            var description = PythonEnvironments.Describe(model, PythonEnvironments.ChooseForModel(model, PythonPath, PythonOptions.EnvManager), PythonOptions.EnvManager);
            return description.StartsWith("Reuse", StringComparison.Ordinal) || ShouldProcess(model.Name, description);
        }
        catch (PythonWorkerException ex)
        {
            WriteError(Errors.FromPythonWorker(ex, ex, PythonPath));
            return false;
        }
    }

    /// <summary>Opens the model's scorer; worker stderr goes to Verbose (Python warnings to Warning) on the pipeline thread.</summary>
    private IScorer OpenScorer(MLModel model, out bool owned, CancellationToken ct)
    {
        var progress = new ProgressRecord(4, "Invoke-MLModelPrediction", $"Preparing the Python environment for {model.Name}");
        using var onnxLog = RouteOnnxRuntimeLog();
        var scorer = PredictionEngine.ScorerFor(model, new OnnxScorerOptions(ThrottleLimit), PythonOptions,
            msg => Post(() => WriteWarning(msg)),
            line => { _workerLines.Enqueue(line); Post(DrainWorkerLines); },
            new SyncProgress<string>(line => Post(() => { progress.StatusDescription = line.Length > 100 ? line[..100] : line; WriteProgress(progress); })),
            out owned, ct, NoCache ? null : PythonWorkerCache.Shared, line => { _workerLines.Enqueue(line); Post(DrainWorkerLines); });
        return scorer;
    }

    private void DrainWorkerLines()
    {
        while (_workerLines.TryDequeue(out var line))
        {
            if (line.StartsWith("MLMODELS-WARNING: ", StringComparison.Ordinal)) WriteWarning(line["MLMODELS-WARNING: ".Length..]);
            else WriteVerbose(line);
        }
    }

    private void ScoreFileInput(MLModel model, IScorer scorer, CancellationToken ct)
    {
        var warn = (string msg) => Post(() => WriteWarning(msg));
        if (ParameterSetName == CsvSet)
        {
            var parameters = ParamsEnforcement.Apply(model.Signature?.Params, Params == null ? null : ToPlain(Params), warn);
            if (parameters.Count > 0) Post(() => WriteVerbose($"Params: {string.Join(", ", parameters.Select(kv => $"{kv.Key}={kv.Value}"))}"));
            ScoreFrames(scorer, PredictionEngine.CsvFrames(scorer, _inputFile!, BatchFor(scorer), warn, ct), parameters, ct);
            return;
        }
        // A JSON request (or the input example, which is one) is scored whole, as MLflow does; -Params adds to its params.
        using var request = ParameterSetName == JsonSet ? ScoringRequest.ParseFile(_inputFile!) : PredictionEngine.ExampleRequest(model);
        // A file is read as mlflow models predict reads it (without the schema); the input example as the server would.
        var input = PredictionEngine.FromRequest(scorer, request, warn, asPredictCommand: ParameterSetName == JsonSet);
        var given = request.ParamsFor(model.Signature?.Params);
        if (Params != null && given is IDictionary<string, object?> or null)
        {
            var merged = new Dictionary<string, object?>((IDictionary<string, object?>?)given ?? new Dictionary<string, object?>(), StringComparer.Ordinal);
            foreach (var (k, v) in (IDictionary<string, object?>)ToPlain(Params)!) merged[k] = v;
            given = merged;
        }
        var prediction = scorer.Predict(input, ParamsEnforcement.Apply(model.Signature?.Params, given, warn));
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
        var progress = new ProgressRecord(3, "Invoke-MLModelPrediction", $"Scoring {scorer.Model.Name}");
        using var writer = OutputPath == null ? null : CreateWriter();
        var last = DateTime.MinValue;
        // Scoring runs one batch ahead of writing, on its own thread, as parsing runs ahead of scoring.
        foreach (var (input, output) in PredictionEngine.Prefetch(PredictionEngine.ScoreFrames(scorer, frames, new SyncProgress<PredictionProgress>(p =>
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
        var format = OutputFormat != null ? Enum.Parse<PredictionFormat>(OutputFormat, ignoreCase: true) : PredictionFileWriter.FormatFor(target);
        return format == PredictionFormat.Json ? new JsonPredictionWriter(target, IncludeInput, Force, unwrapped) : PredictionFileWriter.Create(target, format, IncludeInput, Force);
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
                if (!ConfirmEnvironment(model)) { _rows.Clear(); return; }
                _objectScorer = OpenScorer(model, out _objectScorerOwned, CancelToken);
            }
            var scorer = _objectScorer;
            var parameters = ParamsEnforcement.Apply(model.Signature?.Params, Params == null ? null : ToPlain(Params), WriteWarning);
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
        ex is PythonWorkerException or SchemaViolationException or ModelPredictionException or PredictionFailedException or MLModelFormatException or IOException or InvalidOperationException or UnauthorizedAccessException
            or OnnxUnsupportedException;

    private ErrorRecord ScoringError(Exception ex, MLModel model)
    {
        var python = ex as PythonWorkerException ?? ex.InnerException as PythonWorkerException ?? ex.InnerException?.InnerException as PythonWorkerException;
        if (python?.PythonTraceback is string tb) WriteVerbose(tb);
        return ScoringErrorRecord(ex, model);
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
        IOException when ex.Message.Contains("-Force") => Errors.Record(ex, "OutputExists", ErrorCategory.ResourceExists, model),
        _ => Errors.FromException(ex, model),
    };
}
