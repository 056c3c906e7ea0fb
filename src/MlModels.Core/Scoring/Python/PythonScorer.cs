using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using MlModels.Core.Format;

namespace MlModels.Core.Scoring.Python;

public enum EnvManager { Local, VirtualEnv, Conda }

public sealed record PythonOptions(string? PythonPath = null, EnvManager EnvManager = EnvManager.Local, TimeSpan? PredictTimeout = null, TimeSpan? LoadTimeout = null)
{
    public TimeSpan Predict => PredictTimeout ?? TimeSpan.FromSeconds(60);
    public TimeSpan Load => LoadTimeout ?? TimeSpan.FromSeconds(300);
}

/// <summary>
/// Scores a python_function model in a Python worker. Schema enforcement happens here, in C#, before data is sent,
/// with the same rules as ONNX scoring; the worker receives typed columns.
/// </summary>
public sealed class PythonScorer : IScorer
{
    private readonly PythonWorker _worker;
    private readonly PythonOptions _options;

    private PythonScorer(MLModel model, PythonWorker worker, PythonOptions options)
    {
        Model = model;
        _worker = worker;
        _options = options;
    }

    public MLModel Model { get; }
    public PythonWorker Worker => _worker;

    public static PythonScorer Start(MLModel model, PythonOptions? options = null, Action<string>? stderr = null, Action<string>? warn = null, IProgress<string>? envProgress = null, CancellationToken ct = default)
    {
        options ??= new PythonOptions();
        var basePython = PythonEnvironments.ChoosePython(options.PythonPath);
        var python = PythonEnvironments.Prepare(model, basePython, options.EnvManager, envProgress, ct);
        var worker = PythonWorker.Start(model, python, stderr, options.Load);
        PythonEnvironments.WarnOnVersion(model, worker.PythonVersion, warn);
        return new PythonScorer(model, worker, options);
    }

    /// <summary>True when the model has no column signature, so CSV column types are inferred from a sample.</summary>
    public bool NeedsTypeSample => Model.Signature?.Inputs is not { IsTensorBased: false, Columns.Count: > 0 };

    public IReadOnlyList<ColumnTarget> PlanColumns(IReadOnlyList<string> sourceNames, Action<string>? warn) =>
        ColumnPlan.Create(Model.Signature?.Inputs is { IsTensorBased: false } s ? s : null, sourceNames, _ => ElementKind.Object, warn);

    public Frame Predict(Frame input, IReadOnlyDictionary<string, object?>? parameters)
    {
        var (columns, payload) = Encode(input);
        var header = new JsonObject { ["op"] = "predict", ["input"] = "frame", ["rows"] = input.RowCount, ["columns"] = columns, ["params"] = Params(parameters) };
        var (reply, body) = _worker.Call(header, payload, _options.Predict, $"scoring rows {input.FirstRow:N0} to {input.FirstRow + input.RowCount - 1:N0}");
        return ToFrame(reply, body, input.RowCount);
    }

    public object PredictTensors(ScoringRequest request, IReadOnlyDictionary<string, object?>? parameters)
    {
        var payload = Encoding.UTF8.GetBytes(request.Data.GetRawText());
        var header = new JsonObject { ["op"] = "predict", ["input"] = "json", ["params"] = Params(parameters) };
        var (reply, body) = _worker.Call(header, payload, _options.Predict, "scoring the request");
        if (reply["kind"]?.GetValue<string>() == "frame") return ToFrame(reply, body, null);
        return PyJson.ToPlain(JsonNode.Parse(body)) ?? new object();
    }

    private static JsonNode? Params(IReadOnlyDictionary<string, object?>? parameters) =>
        parameters == null || parameters.Count == 0 ? null : JsonNode.Parse(JsonValues.Serialize(parameters));

    private static (JsonArray Columns, byte[] Payload) Encode(Frame input)
    {
        var columns = new JsonArray();
        using var ms = new MemoryStream();
        for (int c = 0; c < input.Columns.Count; c++)
        {
            var col = input.Columns[c];
            byte[] blob;
            string dtype;
            bool anyMissing = col.Missing != null && col.Missing.Any(m => m);
            if (!anyMissing && col.Kind.IsNumeric() && col.Kind != ElementKind.Float16 || col.Kind == ElementKind.Bool && !anyMissing)
            {
                blob = RawBytes(col.Values);
                dtype = col.Kind.NumpyName();
            }
            else
            {
                dtype = col.Kind == ElementKind.DateTime ? "datetime64[ns]" : "object";
                var values = new object?[input.RowCount];
                for (int r = 0; r < values.Length; r++) values[r] = col.Get(r);
                blob = Encoding.UTF8.GetBytes(JsonValues.Serialize(values));
            }
            columns.Add(new JsonObject { ["name"] = input.Names[c], ["dtype"] = dtype, ["nbytes"] = blob.Length });
            ms.Write(blob);
        }
        return (columns, ms.ToArray());
    }

    private static byte[] RawBytes(Array a) => a switch
    {
        // One copy into the request buffer; the arrays' bytes are sent as they lie in memory (little-endian).
        double[] d => MemoryMarshal.AsBytes(d.AsSpan()).ToArray(),
        float[] f => MemoryMarshal.AsBytes(f.AsSpan()).ToArray(),
        long[] l => MemoryMarshal.AsBytes(l.AsSpan()).ToArray(),
        int[] i => MemoryMarshal.AsBytes(i.AsSpan()).ToArray(),
        short[] s => MemoryMarshal.AsBytes(s.AsSpan()).ToArray(),
        sbyte[] sb => MemoryMarshal.AsBytes(sb.AsSpan()).ToArray(),
        byte[] b => b,
        ushort[] us => MemoryMarshal.AsBytes(us.AsSpan()).ToArray(),
        uint[] ui => MemoryMarshal.AsBytes(ui.AsSpan()).ToArray(),
        ulong[] ul => MemoryMarshal.AsBytes(ul.AsSpan()).ToArray(),
        bool[] bo => bo.Select(x => x ? (byte)1 : (byte)0).ToArray(),
        _ => throw new ArgumentException($"cannot send {a.GetType().Name} as raw bytes"),
    };

    /// <summary>The worker's result as columns; a single unnamed column is called "prediction".</summary>
    private Frame ToFrame(JsonObject reply, byte[] body, int? expectedRows)
    {
        if (reply["kind"]?.GetValue<string>() != "frame")
        {
            var value = PyJson.ToPlain(JsonNode.Parse(body));
            if (value is List<object?> list && (expectedRows == null || list.Count == expectedRows))
                return new Frame(["prediction"], [new ColumnData(ElementKind.Object, list.ToArray())], list.Count);
            throw new PythonWorkerException($"Model '{Model.Name}' returned {ModelSignature.YamlTypeName(value)} rather than one prediction per row; write it as JSON with -OutputPath x.json.");
        }
        int rows = reply["rows"]!.GetValue<int>();
        if (expectedRows != null && rows != expectedRows)
            throw new PythonWorkerException($"Model '{Model.Name}' returned {rows} predictions for {expectedRows} rows.");
        var names = new List<string>();
        var cols = new List<ColumnData>();
        int offset = 0;
        var specs = reply["columns"]!.AsArray();
        foreach (var spec in specs)
        {
            var name = spec!["name"]!.GetValue<string>();
            var dtype = spec["dtype"]!.GetValue<string>();
            var n = spec["nbytes"]!.GetValue<int>();
            var blob = body.AsSpan(offset, n);
            offset += n;
            if (int.TryParse(name, out var index)) name = specs.Count == 1 ? "prediction" : $"prediction_{index}";
            names.Add(name);
            if (ElementKinds.TryFromNumpy(dtype, out var kind) && kind.IsNumeric() || dtype == "bool")
            {
                var arr = ElementKinds.NewArray(kind, rows);
                if (arr is bool[] b) for (int i = 0; i < rows; i++) b[i] = blob[i] != 0;
                else Buffer.BlockCopy(blob.ToArray(), 0, arr, 0, n);
                cols.Add(new ColumnData(kind, arr));
            }
            else
            {
                var values = (PyJson.ToPlain(JsonNode.Parse(blob)) as List<object?>)?.ToArray() ?? new object?[rows];
                cols.Add(new ColumnData(ElementKind.Object, values));
            }
        }
        return new Frame(names, cols, rows);
    }

    public void Dispose() => _worker.Dispose();
}
