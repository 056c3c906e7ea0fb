using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using MlModels.Core.Format;

namespace MlModels.Core.Scoring.Python;

public enum EnvManager { Local, VirtualEnv, Conda }

public sealed record PythonOptions(
    string? PythonPath = null,
    EnvManager EnvManager = EnvManager.Local,
    TimeSpan? PredictTimeout = null,
    TimeSpan? LoadTimeout = null)
{
    public TimeSpan Predict => PredictTimeout ?? TimeSpan.FromSeconds(60);
    public TimeSpan Load => LoadTimeout ?? TimeSpan.FromSeconds(300);
}

/// <summary>
/// Scores a python_function model in a Python worker. Schema enforcement happens here, in C#, before data is sent,
/// with the same rules as ONNX scoring; the worker receives typed columns.
/// </summary>
public sealed class PythonScorer : IScorer, IProbabilityScorer
{
    private readonly Task<PythonWorkerLease> _lease;
    private readonly PythonOptions _options;
    private readonly Action<string>? _warn;
    private readonly Action<string>? _info;
    private int _announced;

    private PythonScorer(MLModel model, Task<PythonWorkerLease> lease, PythonOptions options, Action<string>? warn, Action<string>? info)
    {
        Model = model;
        _lease = lease;
        _options = options;
        _warn = warn;
        _info = info;
    }

    public MLModel Model { get; }
    /// <summary>The worker, once it has started (this waits for it).</summary>
    public PythonWorker Worker => WaitReady(CancellationToken.None).Worker;
    /// <summary>True when the worker came warm from the cache rather than being started for this scorer.</summary>
    public bool Reused => WaitReady(CancellationToken.None).Reused;

    /// <summary>Starts a worker of its own for the model and waits until it has loaded the model; Dispose waits for the worker to exit.</summary>
    public static PythonScorer Start(
        MLModel model,
        PythonOptions? options = null,
        Action<string>? stderr = null,
        Action<string>? warn = null,
        IProgress<string>? envProgress = null,
        CancellationToken ct = default)
    {
        var scorer = Begin(model, options, stderr, warn, envProgress, null, null, ct, stopInBackground: false);
        try
        {
            scorer.WaitReady(ct);
            return scorer;
        }
        catch
        {
            scorer.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Returns at once while the worker starts (or comes warm from <paramref name="cache"/>; null: a worker of its
    /// own, stopped on Dispose without waiting for Python to shut down) in the background, so reading the input
    /// overlaps it. Start failures surface at <see cref="WaitReady"/> or the first <see cref="Predict"/>.
    /// <paramref name="info"/> gets one line saying which worker scores, on the thread that first waits for it.
    /// </summary>
    public static PythonScorer Begin(
        MLModel model,
        PythonOptions? options,
        Action<string>? stderr,
        Action<string>? warn,
        IProgress<string>? envProgress,
        PythonWorkerCache? cache,
        Action<string>? info,
        CancellationToken ct = default) =>
        Begin(model, options, stderr, warn, envProgress, cache, info, ct, stopInBackground: true);

    private static PythonScorer Begin(
        MLModel model,
        PythonOptions? options,
        Action<string>? stderr,
        Action<string>? warn,
        IProgress<string>? envProgress,
        PythonWorkerCache? cache,
        Action<string>? info,
        CancellationToken ct,
        bool stopInBackground)
    {
        options ??= new PythonOptions();
        var lease = Task.Factory.StartNew(() =>
        {
            var basePython = PythonEnvironments.ChooseForModel(model, options.PythonPath, options.EnvManager);
            var python = PythonEnvironments.Prepare(model, basePython, options.EnvManager, envProgress, ct);
            return cache == null
                ? PythonWorkerLease.Private(PythonWorker.Start(model, python, stderr, options.Load), stopInBackground)
                : cache.Acquire(model, basePython, python, options.EnvManager, stderr, options.Load);
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        return new PythonScorer(model, lease, options, warn, info);
    }

    /// <summary>Waits for the worker; the first caller to see it ready gets the version warning and the info line.</summary>
    public PythonWorkerLease WaitReady(CancellationToken ct)
    {
        if (!_lease.IsCompleted)
        {
            try { _lease.Wait(ct); }
            catch (AggregateException) { } // rethrown unwrapped below
        }
        var lease = _lease.GetAwaiter().GetResult();
        if (Interlocked.Exchange(ref _announced, 1) == 0)
        {
            var w = lease.Worker;
            if (!lease.Reused) PythonEnvironments.WarnOnVersion(Model, w.PythonVersion, _warn);
            _info?.Invoke(lease.Reused
                ? $"Python {w.PythonVersion} ({w.PythonPath}, process {w.ProcessId}) reused, warm, for '{Model.Name}' (loaded via {w.LoadedBy})."
                : $"Python {w.PythonVersion} ({w.PythonPath}, process {w.ProcessId}) loaded '{Model.Name}' via {w.LoadedBy}.");
        }
        return lease;
    }

    /// <summary>Kills the worker if it has started (Ctrl+C in the middle of a batch); a cached one is replaced on its next use.</summary>
    public void Kill()
    {
        if (_lease.IsCompletedSuccessfully) _lease.Result.Worker.Kill();
    }

    /// <summary>The worker gets tables as pandas DataFrames; tensor signatures turn them into arrays first, as MLflow does.</summary>
    public bool FeedsFrames => false;

    /// <summary>With a column signature, MLflow's column rules; without one, every column as given (pandas' types come later).</summary>
    public IReadOnlyList<ColumnTarget> PlanColumns(IReadOnlyList<string> sourceNames, Action<string>? warn) =>
        ColumnPlan.Create(Model.Signature?.Inputs is { IsTensorBased: false } s ? s : null, sourceNames, _ => ElementKind.Object, warn);

    public Prediction Predict(ModelInput input, IReadOnlyDictionary<string, object?>? parameters) =>
        Call(input, parameters, probabilities: false).Prediction;

    /// <inheritdoc/>
    public ScoredWithProbabilities PredictWithProbabilities(ModelInput input, IReadOnlyDictionary<string, object?>? parameters,
        CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        return Call(input, parameters, probabilities: true);
    }

    private ScoredWithProbabilities Call(ModelInput input, IReadOnlyDictionary<string, object?>? parameters, bool probabilities)
    {
        // Sized up front: a growing stream re-allocates (on the large object heap) as it doubles, per batch.
        using var payload = new MemoryStream(PayloadSize(input));
        var node = Encode(input, payload);
        var header = new JsonObject { ["op"] = "predict", ["input"] = node, ["params"] = Params(parameters) };
        if (probabilities) header["proba"] = true;
        var what = input is FrameInput { Frame: var f } && f.RowCount > 0
            ? $"scoring rows {f.FirstRow:N0} to {f.FirstRow + f.RowCount - 1:N0}" : "scoring the input";
        JsonObject reply;
        byte[] body;
        var worker = WaitReady(CancellationToken.None).Worker;
        try { (reply, body) = worker.Call(header, payload.GetBuffer().AsSpan(0, (int)payload.Length), _options.Predict, what); }
        catch (PythonWorkerException ex) when (ex.Stage == "input")
        {
            throw SchemaViolationException.BadInput(ex.Message, null, null, ex);
        }
        catch (PythonWorkerException ex) when (ex.Stage == "predict")
        {
            throw new ModelPredictionException(ex.Message, ex, ex.PythonTraceback);
        }
        catch (PythonWorkerException ex) when (ex.Stage == "probabilities")
        {
            throw new ModelPredictionException("predict_proba failed: " + ex.Message, ex, ex.PythonTraceback);
        }
        int offset = 0;
        var prediction = Decode(reply["result"]!.AsObject(), body, ref offset);
        if (!probabilities) return new ScoredWithProbabilities(prediction, null, null);
        if (reply["proba"] is not JsonObject proba)
            return new ScoredWithProbabilities(prediction, null, reply["proba_missing"]?.GetValue<string>() ?? "the model gave no probabilities");
        var values = Decode(proba, body, ref offset);
        var classes = PyJsonValues.Parse(System.Text.Encoding.UTF8.GetBytes(reply["classes"]?.ToJsonString() ?? "[]")) as IEnumerable<object?>;
        return new ScoredWithProbabilities(prediction, ClassProbabilities.From(values, classes?.ToList() ?? []), null);
    }

    /// <summary>The payload's size where the input is numeric (8 bytes a value at most), else a small start.</summary>
    private static int PayloadSize(ModelInput input) => (int)Math.Min(int.MaxValue / 2, input switch
    {
        FrameInput { Frame: var f } => (long)f.RowCount * f.Columns.Count * 8 + 256,
        TensorInput { Tensor: var t } => (long)t.Data.Length * 8 + 256,
        _ => 256,
    });

    private static JsonNode? Params(IReadOnlyDictionary<string, object?>? parameters) =>
        parameters == null || parameters.Count == 0 ? null : JsonNode.Parse(JsonValues.Serialize(parameters));

    private static JsonObject Encode(ModelInput input, MemoryStream payload)
    {
        switch (input)
        {
            case FrameInput { Frame: var f }:
            {
                var columns = new JsonArray();
                for (int c = 0; c < f.Columns.Count; c++)
                {
                    var col = Values(f.Columns[c], f.RowCount, payload);
                    col["name"] = f.Names[c];
                    columns.Add((JsonNode)col);
                }
                return new JsonObject { ["kind"] = "frame", ["rows"] = f.RowCount, ["columns"] = columns, ["positional"] = f.PositionalNames };
            }
            case TensorInput { Tensor: var t }:
                return Tensor(t, payload);
            case TensorDictInput { Tensors: var ts }:
                return new JsonObject
                {
                    ["kind"] = "dict", ["items"] = new JsonArray(
                    ts.Select(kv => (JsonNode)new JsonObject { ["key"] = kv.Key, ["value"] = Tensor(kv.Value, payload) }).ToArray())
                };
            case JsonInput j:
            {
                var blob = Encoding.UTF8.GetBytes(j.Json);
                payload.Write(blob);
                return new JsonObject { ["kind"] = "json", ["nbytes"] = blob.Length, ["form"] = j.Form };
            }
            default:
                throw new ArgumentException($"Unknown model input {input.GetType().Name}.");
        }
    }

    private static JsonObject Tensor(TensorData t, MemoryStream payload)
    {
        var node = Values(new ColumnData(t.Kind, t.Data), (int)t.ElementCount, payload);
        node["kind"] = "ndarray";
        node["shape"] = new JsonArray(t.Shape.Select(d => (JsonNode)JsonValue.Create(d)).ToArray());
        return node;
    }

    /// <summary>A column's values: numeric ones as raw little-endian bytes, others (or with missing values) as a JSON list.</summary>
    private static JsonObject Values(ColumnData col, int count, MemoryStream payload)
    {
        bool anyMissing = col.Missing != null && col.Missing.AsSpan(0, count).Contains(true);
        long start = payload.Length;
        string dtype;
        if (!anyMissing && (col.Kind.IsNumeric() && col.Kind != ElementKind.Float16 || col.Kind == ElementKind.Bool))
        {
            WriteRaw(col.Values, count, payload);
            dtype = col.Kind.NumpyName();
        }
        else
        {
            dtype = col.Kind switch { ElementKind.DateTime => "datetime64[ns]", ElementKind.String when !anyMissing => "str", _ => "object" };
            var values = new object?[count];
            for (int r = 0; r < count; r++) values[r] = col.Get(r);
            payload.Write(Encoding.UTF8.GetBytes(JsonValues.Serialize(values)));
        }
        return new JsonObject { ["dtype"] = dtype, ["nbytes"] = payload.Length - start };
    }

    private static void WriteRaw(Array a, int n, Stream s)
    {
        // The arrays' bytes are sent as they lie in memory (little-endian).
        switch (a)
        {
            case double[] d: s.Write(MemoryMarshal.AsBytes(d.AsSpan(0, n))); break;
            case float[] f: s.Write(MemoryMarshal.AsBytes(f.AsSpan(0, n))); break;
            case long[] l: s.Write(MemoryMarshal.AsBytes(l.AsSpan(0, n))); break;
            case int[] i: s.Write(MemoryMarshal.AsBytes(i.AsSpan(0, n))); break;
            case short[] sh: s.Write(MemoryMarshal.AsBytes(sh.AsSpan(0, n))); break;
            case sbyte[] sb: s.Write(MemoryMarshal.AsBytes(sb.AsSpan(0, n))); break;
            case byte[] b: s.Write(b.AsSpan(0, n)); break;
            case ushort[] us: s.Write(MemoryMarshal.AsBytes(us.AsSpan(0, n))); break;
            case uint[] ui: s.Write(MemoryMarshal.AsBytes(ui.AsSpan(0, n))); break;
            case ulong[] ul: s.Write(MemoryMarshal.AsBytes(ul.AsSpan(0, n))); break;
            case bool[] bo: s.Write(MemoryMarshal.AsBytes(bo.AsSpan(0, n))); break;
            default: throw new ArgumentException($"cannot send {a.GetType().Name} as raw bytes");
        }
    }

    /// <summary>The worker's description of the result, with the kind and names of what the model returned.</summary>
    private static Prediction Decode(JsonObject node, byte[] body, ref int offset)
    {
        var kind = node["kind"]!.GetValue<string>();
        switch (kind)
        {
            case "ndarray":
            {
                var shape = node["shape"]!.AsArray().Select(d => d!.GetValue<long>()).ToArray();
                var (k, data) = Array(node, body, ref offset, (int)shape.Aggregate(1L, (a, b) => a * b), shape);
                return new TensorPrediction(new TensorData(k, shape, data));
            }
            case "series":
            {
                var (k, data) = Array(node, body, ref offset, null, null);
                var name = node["name"]?.GetValue<string>();
                return new TablePrediction(new Frame([name ?? "0"], [new ColumnData(k, data)], data.Length), isSeries: true, unnamed: name == null);
            }
            case "dataframe":
            {
                int rows = node["rows"]!.GetValue<int>();
                var names = new List<string>();
                var cols = new List<ColumnData>();
                foreach (var spec in node["columns"]!.AsArray())
                {
                    var (k, data) = Array(spec!.AsObject(), body, ref offset, rows, null);
                    names.Add(spec["name"]!.GetValue<string>());
                    cols.Add(new ColumnData(k, data));
                }
                return new TablePrediction(new Frame(names, cols, rows));
            }
            case "dict":
            {
                var items = new List<KeyValuePair<string, Prediction>>();
                foreach (var item in node["items"]!.AsArray())
                {
                    var o = offset;
                    var value = Decode(item!["value"]!.AsObject(), body, ref o);
                    offset = o;
                    items.Add(KeyValuePair.Create(item["key"]!.GetValue<string>(), value));
                }
                return new DictPrediction(items);
            }
            default:
            {
                int n = node["nbytes"]!.GetValue<int>();
                var value = PyJsonValues.Parse(body.AsSpan(offset, n));
                offset += n;
                return new ValuePrediction(value);
            }
        }
    }

    /// <summary>A flat array from the payload: numeric dtypes from raw bytes, others from a JSON list (nested for n-D object arrays).</summary>
    private static (ElementKind Kind, Array Data) Array(JsonObject node, byte[] body, ref int offset, int? count, long[]? shape)
    {
        var dtype = node["dtype"]!.GetValue<string>();
        int n = node["nbytes"]!.GetValue<int>();
        var blob = body.AsSpan(offset, n);
        offset += n;
        if (ElementKinds.TryFromNumpy(dtype, out var kind) && (kind.IsNumeric() || kind == ElementKind.Bool))
        {
            int size = kind switch
            {
                ElementKind.Bool or ElementKind.Int8 or ElementKind.UInt8 => 1,
                ElementKind.Int16 or ElementKind.UInt16 or ElementKind.Float16 => 2,
                ElementKind.Int32 or ElementKind.UInt32 or ElementKind.Float32 => 4,
                _ => 8,
            };
            var arr = ElementKinds.NewArray(kind, count ?? n / size);
            if (arr is bool[] b) for (int i = 0; i < b.Length; i++) b[i] = blob[i] != 0;
            else blob.CopyTo(MemoryMarshal.AsBytes(ArraySpan(arr)));
            return (kind, arr);
        }
        var list = PyJsonValues.Parse(blob) as List<object?> ?? [];
        // Object arrays come as nested lists (tolist()); flatten them in row-major order.
        var flat = new List<object?>();
        void Flatten(object? v, int depth)
        {
            if (shape != null && depth < shape.Length && v is List<object?> inner) foreach (var x in inner) Flatten(x, depth + 1);
            else flat.Add(v);
        }
        foreach (var v in list) Flatten(v, 1);
        return (ElementKind.Object, flat.ToArray());
    }

    private static Span<byte> ArraySpan(Array a) => a switch
    {
        double[] d => MemoryMarshal.AsBytes(d.AsSpan()),
        float[] f => MemoryMarshal.AsBytes(f.AsSpan()),
        long[] l => MemoryMarshal.AsBytes(l.AsSpan()),
        int[] i => MemoryMarshal.AsBytes(i.AsSpan()),
        short[] s => MemoryMarshal.AsBytes(s.AsSpan()),
        sbyte[] sb => MemoryMarshal.AsBytes(sb.AsSpan()),
        byte[] b => b.AsSpan(),
        ushort[] us => MemoryMarshal.AsBytes(us.AsSpan()),
        uint[] ui => MemoryMarshal.AsBytes(ui.AsSpan()),
        ulong[] ul => MemoryMarshal.AsBytes(ul.AsSpan()),
        Half[] h => MemoryMarshal.AsBytes(h.AsSpan()),
        _ => throw new ArgumentException($"{a.GetType().Name} has no raw bytes"),
    };

    /// <summary>Hands a cached worker back (warm), stops a private one; a worker still starting is handled when it is ready.</summary>
    public void Dispose()
    {
        if (_lease.IsCompleted) { if (_lease.IsCompletedSuccessfully) _lease.Result.Dispose(); }
        else _lease.ContinueWith(t => { if (t.IsCompletedSuccessfully) t.Result.Dispose(); }, TaskScheduler.Default);
    }
}

/// <summary>Parses the JSON Python's json.dumps writes (NaN, Infinity and -Infinity included) into plain values.</summary>
public static class PyJsonValues
{
    public static object? Parse(ReadOnlySpan<byte> utf8)
    {
        var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { MaxDepth = 256 });
        // NaN and the infinities are not JSON: they are written as strings first, in a copy, only when present.
        if (utf8.IndexOf("NaN"u8) >= 0 || utf8.IndexOf("Infinity"u8) >= 0)
            return Unquote(PyJson.ToPlain(JsonNode.Parse(Quote(utf8))));
        return PyJson.ToPlain(JsonNode.Parse(ref reader));
    }

    // A private-use character marks the placeholders, so no real string is mistaken for one.
    private const string Marker = "\uE000mlmodels:";

    private static string Quote(ReadOnlySpan<byte> utf8)
    {
        var text = Encoding.UTF8.GetString(utf8);
        var sb = new StringBuilder(text.Length + 16);
        bool inString = false;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (inString)
            {
                sb.Append(c);
                if (c == '\\') sb.Append(text[++i]);
                else if (c == '"') inString = false;
                continue;
            }
            if (c == '"') { inString = true; sb.Append(c); continue; }
            var token = text.AsSpan(i).StartsWith("-Infinity")
                ? "-Infinity"
                : text.AsSpan(i).StartsWith("Infinity") ? "Infinity" : text.AsSpan(i).StartsWith("NaN") ? "NaN" : null;
            if (token == null) { sb.Append(c); continue; }
            sb.Append('"').Append(Marker).Append(token).Append('"');
            i += token.Length - 1;
        }
        return sb.ToString();
    }

    private static object? Unquote(object? v) => v switch
    {
        string s when s.StartsWith(Marker, StringComparison.Ordinal) => Special(s),
        List<object?> list => list.Select(Unquote).ToList(),
        Dictionary<string, object?> d => d.ToDictionary(kv => kv.Key, kv => Unquote(kv.Value), StringComparer.Ordinal),
        _ => v,
    };

    private static object Special(string s) => s[(s.IndexOf(':') + 1)..] switch
    {
        "NaN" => double.NaN,
        "Infinity" => double.PositiveInfinity,
        _ => double.NegativeInfinity,
    };
}
