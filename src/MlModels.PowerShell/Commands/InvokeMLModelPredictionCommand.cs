using System.Collections;
using System.Data;
using System.Management.Automation;
using MlModels.Core.Format;
using MlModels.Core.Scoring;
using MlModels.Core.Scoring.Onnx;
using MlModels.PowerShell.Internal;

namespace MlModels.PowerShell.Commands;

/// <summary>Scores a model on CSV, MLflow JSON requests, pipeline objects or its input example.</summary>
[Cmdlet(VerbsLifecycle.Invoke, "MLModelPrediction", DefaultParameterSetName = CsvSet)]
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
    private string? _inputFile;
    private string? _outputTarget;
    private PredictionFileWriter? _objectWriter;

    [Parameter(ParameterSetName = CsvSet, ValueFromPipeline = true)]
    [Parameter(ParameterSetName = JsonSet, ValueFromPipeline = true)]
    [Parameter(ParameterSetName = ExampleSet, ValueFromPipeline = true)]
    [Parameter(ParameterSetName = ObjectSet)]
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

    [Parameter]
    [ValidateRange(1, 10_000_000)]
    public int BatchSize { get; set; } = 10_000;

    /// <summary>Threads ONNX Runtime may use inside one batch (0: its default).</summary>
    [Parameter]
    [ValidateRange(0, 1024)]
    public int ThrottleLimit { get; set; }

    [Parameter]
    public Hashtable? Params { get; set; }

    /// <summary>Replaces an existing -OutputPath file.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessRecord()
    {
        if (ParameterSetName == ObjectSet)
        {
            _rows.AddRange(Rows(InputObject));
            if (_rows.Count >= BatchSize) FlushObjects();
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
            RunPumped(ct => { ScoreFileInput(model, ct); return 0; });
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
        }
    }

    private MLModel? ResolveModel()
    {
        if (Model != null) return Model;
        if (Path == null)
        {
            WriteError(Errors.Record(new ArgumentException("Give the model: pipe it from Get-MLModel, or use -Model or -Path."), "ModelRequired", ErrorCategory.InvalidArgument, null));
            return null;
        }
        var path = ResolveExisting([Path], literal: false).FirstOrDefault();
        if (path == null) return null;
        try { return Model = ModelStore.Load(path); }
        catch (Exception ex) when (ex is MLModelFormatException or IOException)
        {
            WriteError(Errors.FromException(ex, path));
            return null;
        }
    }

    private OnnxScorer Scorer(MLModel model) =>
        PredictionEngine.OnnxScorerFor(model, new OnnxScorerOptions(ThrottleLimit), msg => Post(() => WriteWarning(msg)));

    private void ScoreFileInput(MLModel model, CancellationToken ct)
    {
        var scorer = Scorer(model);
        var warn = (string msg) => Post(() => WriteWarning(msg));
        var parameters = ParamsEnforcement.Apply(model.Signature?.Params, Params == null ? null : (IDictionary<string, object?>?)ToPlain(Params), warn);
        if (parameters.Count > 0) Post(() => WriteVerbose($"Params: {string.Join(", ", parameters.Select(kv => $"{kv.Key}={kv.Value}"))}"));
        IEnumerable<Frame> frames;
        ScoringRequest? request = null;
        try
        {
            switch (ParameterSetName)
            {
                case CsvSet:
                    frames = PredictionEngine.CsvFrames(scorer, _inputFile!, BatchSize, warn, ct);
                    break;
                case JsonSet:
                    request = ScoringRequest.ParseFile(_inputFile!);
                    if (!request.IsTabular)
                    {
                        var outputs = PredictionEngine.ScoreTensors(scorer, request);
                        WriteTensorResult(outputs);
                        return;
                    }
                    frames = [request.ToFrame(names => scorer.PlanColumns(names, warn))];
                    break;
                default:
                    var example = InputExample.Read(model);
                    if (example.Rows == null)
                    {
                        request = ScoringRequest.Parse(JsonValues.Serialize(new Dictionary<string, object?> { ["inputs"] = example.Data is IDictionary d && d.Contains("inputs") ? d["inputs"] : example.Data }), example.File ?? "input example");
                        WriteTensorResult(PredictionEngine.ScoreTensors(scorer, request));
                        return;
                    }
                    var rows = example.Rows.Select(r => (IReadOnlyList<KeyValuePair<string, object?>>)example.Columns!.Select((c, i) => KeyValuePair.Create(c, ExampleValue(r[i]))).ToList()).ToList();
                    frames = [ObjectInput.ToFrame(rows, names => scorer.PlanColumns(names, warn))];
                    break;
            }
            ScoreFrames(scorer, frames, ct);
        }
        finally
        {
            request?.Dispose();
        }
    }

    // Example values are JSON literals: whole numbers may feed any numeric column, as in a request.
    private static object? ExampleValue(object? v) => v switch { long l => (object)(double)l, _ => v };

    private void ScoreFrames(OnnxScorer scorer, IEnumerable<Frame> frames, CancellationToken ct)
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
        }), ct), 2, ct))
        {
            if (writer != null) writer.Write(input, output);
            else Post(() => EmitRows(input, output));
        }
        writer?.Commit();
        progress.RecordType = ProgressRecordType.Completed;
        Post(() => WriteProgress(progress));
    }

    private PredictionFileWriter CreateWriter()
    {
        var target = _outputTarget ??= ResolveTarget(OutputPath!);
        return PredictionFileWriter.Create(target, OutputFormat != null ? Enum.Parse<PredictionFormat>(OutputFormat, ignoreCase: true) : PredictionFileWriter.FormatFor(target), IncludeInput, Force);
    }

    private void FlushObjects()
    {
        var model = _objectModel ??= ResolveModel();
        if (model == null) { _rows.Clear(); return; }
        if (_rows.Count == 0) return;
        try
        {
            var scorer = Scorer(model);
            var frame = ObjectInput.ToFrame(_rows, names => scorer.PlanColumns(names, _objectRowsDone == 0 ? WriteWarning : null), _objectRowsDone + 1);
            foreach (var (input, output) in PredictionEngine.ScoreFrames(scorer, [frame], null, CancelToken))
            {
                if (OutputPath != null) (_objectWriter ??= CreateWriter()).Write(input, output);
                else EmitRows(input, output);
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

    private void EmitRows(Frame input, Frame output)
    {
        for (int r = 0; r < output.RowCount; r++)
        {
            var obj = new PSObject();
            if (IncludeInput)
                for (int c = 0; c < input.Columns.Count; c++) obj.Properties.Add(new PSNoteProperty(input.Names[c], input.Columns[c].Get(r)));
            for (int c = 0; c < output.Columns.Count; c++)
            {
                var name = output.Names[c];
                if (IncludeInput && input.IndexOf(name) >= 0) name = "prediction_" + name;
                obj.Properties.Add(new PSNoteProperty(name, output.Columns[c].Get(r)));
            }
            WriteObject(obj);
        }
    }

    private void WriteTensorResult(IReadOnlyDictionary<string, object> outputs)
    {
        if (OutputPath != null)
        {
            using var writer = CreateWriter();
            writer.WriteValue(outputs);
            writer.Commit();
            return;
        }
        var obj = new PSObject();
        foreach (var (name, value) in outputs) obj.Properties.Add(new PSNoteProperty(name, value is TensorData t ? Nested(t) : value));
        Post(() => WriteObject(obj));
    }

    /// <summary>A tensor as nested object arrays (numpy's tolist()), so scripts can index it.</summary>
    private static object? Nested(TensorData t)
    {
        long offset = 0;
        return NestedAt(t.Shape, t.Data, 0, ref offset);
    }

    private static object? NestedAt(long[] shape, Array data, int dim, ref long offset)
    {
        if (dim == shape.Length) return data.GetValue(offset++);
        var arr = new object?[shape[dim]];
        for (long i = 0; i < arr.Length; i++) arr[i] = NestedAt(shape, data, dim + 1, ref offset);
        return arr;
    }

    private static bool IsScoringError(Exception ex) =>
        ex is SchemaViolationException or PredictionFailedException or MLModelFormatException or IOException or InvalidOperationException or UnauthorizedAccessException;

    private static ErrorRecord ScoringError(Exception ex, MLModel model) => ex switch
    {
        PredictionFailedException { InnerException: SchemaViolationException } => Errors.Record(ex, "SchemaViolation", ErrorCategory.InvalidData, model),
        SchemaViolationException => Errors.Record(ex, "SchemaViolation", ErrorCategory.InvalidData, model),
        PredictionFailedException => Errors.Record(ex, "PredictionFailed", ErrorCategory.InvalidResult, model),
        IOException when ex.Message.Contains("-Force") => Errors.Record(ex, "OutputExists", ErrorCategory.ResourceExists, model),
        _ => Errors.FromException(ex, model),
    };
}
