using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using MlModels.Core.Format;

namespace MlModels.Core.Scoring.Onnx;

/// <param name="Spin">
/// Let ONNX Runtime's worker threads spin between runs: lower latency for a server, but on a small machine the spinning
/// takes CPU from the thread parsing the next batch, so batch scoring turns it off.
/// </param>
public sealed record OnnxScorerOptions(int IntraOpThreads = 0, int InterOpThreads = 0, bool Spin = false);

/// <summary>One ONNX graph input or output: name, element type and dimensions (-1 where symbolic).</summary>
public sealed record OnnxPort(string Name, ElementKind Kind, long[] Shape, OnnxValueType ValueType, string TypeText);

/// <summary>
/// Scores an MLflow model's onnx flavor on ONNX Runtime, with mlflow.onnx's semantics: a DataFrame feeds one input
/// by stacking its columns (in signature order) or several inputs by name; float64 data feeds float inputs;
/// each output becomes one or more columns. The session is created once and reused.
/// </summary>
public sealed class OnnxScorer : IScorer
{
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    // Runs that may be stopped each get their own options, since stopping one sets its Terminate flag.
    private readonly System.Collections.Concurrent.ConcurrentBag<RunOptions> _stoppable = [];
    private readonly string[] _inputNames;
    private readonly string[] _outputNames;
    private readonly OnnxBoundRuns? _bound;

    private OnnxScorer(InferenceSession session, MLModel model, string file)
    {
        _session = session;
        Model = model;
        File = file;
        Inputs = session.InputMetadata.Select(kv => Port(kv.Key, kv.Value)).ToList();
        Outputs = session.OutputMetadata.Select(kv => Port(kv.Key, kv.Value)).ToList();
        _inputNames = Inputs.Select(p => p.Name).ToArray();
        _outputNames = Outputs.Select(p => p.Name).ToArray();
        _bound = OnnxBoundRuns.For(session, Inputs, Outputs);
    }

    public MLModel Model { get; }
    public string File { get; }
    public IReadOnlyList<OnnxPort> Inputs { get; }
    public IReadOnlyList<OnnxPort> Outputs { get; }

    public static OnnxScorer Load(MLModel model, OnnxScorerOptions? options = null, Action<string>? warn = null)
    {
        if (model.Path == null) throw new InvalidOperationException("Save the model before scoring it: its ONNX file must be on disk.");
        if (!model.Flavors.TryGetValue("onnx", out var flavor))
            throw new InvalidOperationException($"Model '{model.Name}' has no onnx flavor (flavors: {string.Join(", ", model.FlavorNames)}).");
        var rel = flavor.Data
            ?? throw new MLModelFormatException($"The onnx flavor of '{model.Name}' has no 'data' attribute naming its .onnx file.",
            model.MLmodelFile, null, null, "flavors.onnx.data");
        var file = ModelFiles.ResolveInside(model.Path, rel, "flavors.onnx.data");
        if (!System.IO.File.Exists(file)) throw new FileNotFoundException($"The ONNX file '{rel}' named by flavors.onnx.data is not in the model " +
            $"folder {model.Path}.", file);
        return Load(file, model, options, warn);
    }

    public static OnnxScorer Load(string onnxFile, MLModel model, OnnxScorerOptions? options = null, Action<string>? warn = null)
    {
        options ??= new OnnxScorerOptions();
        OnnxRuntimeLoader.EnsureLoaded();
        var so = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        if (options.IntraOpThreads > 0) so.IntraOpNumThreads = options.IntraOpThreads;
        if (options.InterOpThreads > 0) so.InterOpNumThreads = options.InterOpThreads;
        if (!options.Spin) so.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        ApplyProviders(so, model, warn);
        try
        {
            return new OnnxScorer(new InferenceSession(onnxFile, so), model, onnxFile);
        }
        catch (OnnxRuntimeException ex)
        {
            throw OnnxUnsupportedException.FromLoad(ex, onnxFile);
        }
    }

    private static void ApplyProviders(SessionOptions so, MLModel model, Action<string>? warn)
    {
        var requested = model.Flavors.TryGetValue("onnx", out var f) && f["providers"] is List<object?> list
            ? list.OfType<string>().ToList() : ["CPUExecutionProvider"];
        var available = OrtEnv.Instance().GetAvailableProviders();
        foreach (var p in requested)
        {
            if (p == "CPUExecutionProvider") continue;
            if (!available.Contains(p))
            {
                warn?.Invoke($"The model asks for {p}, which this ONNX Runtime build does not have (it has " +
                    $"{string.Join(", ", available)}); scoring on CPU.");
                continue;
            }
            try
            {
                if (p == "CUDAExecutionProvider") so.AppendExecutionProvider_CUDA(0);
            }
            catch (OnnxRuntimeException ex)
            {
                warn?.Invoke($"{p} could not start ({ex.Message}); scoring on CPU.");
            }
        }
    }

    private static OnnxPort Port(string name, NodeMetadata meta)
    {
        var kind = meta.IsTensor ? OrtValues.KindOf(meta.ElementDataType) : ElementKind.Object;
        var shape = meta.IsTensor ? meta.Dimensions.Select(d => (long)d).ToArray() : [];
        var text = meta.IsTensor ? $"tensor({meta.ElementDataType})" : meta.OnnxValueType.ToString();
        return new OnnxPort(name, kind, shape, meta.OnnxValueType, text);
    }

    /// <summary>
    /// The columns a DataFrame input must supply. With a column signature, MLflow's column rules apply; without one,
    /// one input of shape [N, k] takes every column in order, and several inputs take the columns of their names.
    /// </summary>
    public IReadOnlyList<ColumnTarget> PlanColumns(IReadOnlyList<string> sourceNames, Action<string>? warn)
    {
        var sig = Model.Signature?.Inputs;
        if (sig is { IsTensorBased: false, Columns.Count: > 0 }) return ColumnPlan.Create(sig, sourceNames, _ => ElementKind.Object, warn);
        if (Inputs.Count == 1 && Inputs[0].Kind != ElementKind.Object)
        {
            var input = Inputs[0];
            var kind = SignatureKind(input.Name) ?? input.Kind;
            if (input.Shape.Length >= 2 && input.Shape[1] > 0 && input.Shape[1] != sourceNames.Count)
                throw new SchemaViolationException($"The model's input '{input.Name}' takes {input.Shape[1]} features per row, but the input has " +
                    $"{sourceNames.Count} columns ({ColumnPlan.PyList(sourceNames)}).");
            return sourceNames.Select((n, i) => new ColumnTarget(n, kind, i, true, null)).ToList();
        }
        var index = sourceNames.Select((n, i) => (n, i)).ToDictionary(x => x.n, x => x.i, StringComparer.Ordinal);
        var missing = Inputs.Where(p => !index.ContainsKey(p.Name)).Select(p => p.Name).ToList();
        if (missing.Count > 0) throw new SchemaViolationException($"Model is missing inputs {ColumnPlan.PyList(missing)}.", missing[0]);
        var extra = sourceNames.Where(n => Inputs.All(p => p.Name != n)).ToList();
        if (extra.Count > 0) warn?.Invoke($"Found extra inputs that the model does not take: {ColumnPlan.PyList(extra)}. These " +
            $"inputs will be ignored.");
        return Inputs.Select(p => new ColumnTarget(p.Name, SignatureKind(p.Name) ?? p.Kind, index[p.Name], true, null)).ToList();
    }

    private ElementKind? SignatureKind(string inputName)
    {
        var tensors = Model.Signature?.Inputs?.Tensors;
        var spec = tensors?.FirstOrDefault(t => t.Name == inputName) ?? (tensors?.Count == 1 ? tensors[0] : null);
        return spec != null && ElementKinds.TryFromNumpy(spec.DType, out var k) ? k : null;
    }

    /// <summary>mlflow.onnx feeds a DataFrame's columns to the graph itself (stacked, or by input name).</summary>
    public bool FeedsFrames => true;

    /// <summary>
    /// Runs the graph as mlflow.onnx does: a DataFrame gives a DataFrame of the outputs (one column per output, split
    /// per class for 2-D outputs), arrays give a dict of output name → array. ONNX graphs take no params; they are
    /// checked against the param schema and otherwise unused, as in mlflow.onnx.
    /// </summary>
    public Prediction Predict(ModelInput input, IReadOnlyDictionary<string, object?>? parameters) => Predict(input, parameters, default);

    /// <summary>As <see cref="Predict(ModelInput, IReadOnlyDictionary{string, object?}?)"/>; a cancelled token stops the run between graph
    /// nodes.</summary>
    public Prediction Predict(ModelInput input, IReadOnlyDictionary<string, object?>? parameters, CancellationToken ct) => input switch
    {
        FrameInput f => new TablePrediction(Predict(f.Frame, ct)),
        TensorInput t => OutputsOf(Run(new Dictionary<string,
            TensorData>(StringComparer.Ordinal)
        { [SoleInput().Name] = TensorConversion.RestoreEmptyShape(t.Tensor, SoleInput().Shape) }, ct)),
        TensorDictInput d => OutputsOf(Run(d.Tensors.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal), ct)),
        JsonInput j => OutputsOf(RunJson(j.Json, ct)),
        _ => throw new ArgumentException($"Unknown model input {input.GetType().Name}."),
    };

    private OnnxPort SoleInput() => Inputs.Count == 1 ? Inputs[0]
        : throw new SchemaViolationException($"The model takes {Inputs.Count} inputs ({ColumnPlan.PyList(Inputs.Select(i => i.Name))}); name each " +
            $"one: {{\"inputs\": {{\"name\": [...]}}}}.");

    /// <summary>Request values for a graph without a tensor signature: one nested list for a one-input graph, or lists by input name.</summary>
    private IReadOnlyDictionary<string, object> RunJson(string json, CancellationToken ct)
    {
        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        var elements = root.ValueKind == JsonValueKind.Object
            ? root.EnumerateObject().Select(p => KeyValuePair.Create((string?)p.Name, p.Value)).ToList()
            : [KeyValuePair.Create((string?)null, root)];
        var feeds = new Dictionary<string, TensorData>(StringComparer.Ordinal);
        foreach (var (name, element) in elements)
        {
            var port = name == null ? SoleInput()
                : Inputs.FirstOrDefault(p => p.Name == name)
                    ?? throw new SchemaViolationException($"The model has no input named '{name}'; its inputs are " +
                    $"{ColumnPlan.PyList(Inputs.Select(i => i.Name))}.", name);
            feeds[port.Name] = TensorConversion.RestoreEmptyShape(TensorConversion.FromJson(element, port.Kind, port.Name), port.Shape);
        }
        return Run(feeds, ct);
    }

    /// <summary>Named outputs as mlflow.onnx returns them for array input: a dict of arrays (sequences and maps as lists and dicts).</summary>
    private static DictPrediction OutputsOf(IReadOnlyDictionary<string, object> outputs) =>
        new(outputs.Select(kv => KeyValuePair.Create(kv.Key,
            kv.Value is TensorData t ? (Prediction)new TensorPrediction(t) : new ValuePrediction(Plain(kv.Value)))).ToList());

    private static object? Plain(object? v) => v switch
    {
        TensorData t => new TensorPrediction(t).ToPlain(),
        Dictionary<object, object?> d => d.ToDictionary(kv => PyJsonWriter.KeyText(kv.Key), kv => Plain(kv.Value), StringComparer.Ordinal),
        List<object> l => l.Select(Plain).ToList(),
        _ => v,
    };

    /// <summary>Scores a batch of columns (already planned and converted) and returns the outputs as columns.</summary>
    public Frame Predict(Frame input) => Predict(input, default);

    /// <inheritdoc cref="Predict(Frame)"/>
    public Frame Predict(Frame input, CancellationToken ct)
    {
        var feeds = new Dictionary<string, TensorData>(StringComparer.Ordinal);
        Array? pooled = null;
        try
        {
            if (Inputs.Count == 1)
            {
                var port = Inputs[0];
                if (port.Shape.Length >= 2 || input.Columns.Count > 1)
                {
                    var stacked = Stack(input, port.Kind);
                    if (stacked.Data.Length != stacked.ElementCount) pooled = stacked.Data;
                    feeds[port.Name] = stacked;
                }
                else feeds[port.Name] = Reshape(CastColumn(input.Columns[0], port.Kind, input.Names[0]), port, input.RowCount);
            }
            else
            {
                foreach (var port in Inputs)
                {
                    var ci = input.IndexOf(port.Name);
                    if (ci < 0) throw new SchemaViolationException($"Model is missing inputs ['{port.Name}'].", port.Name);
                    feeds[port.Name] = Reshape(CastColumn(input.Columns[ci], port.Kind, port.Name), port, input.RowCount);
                }
            }
            var outputs = Run(feeds, ct);
            return OutputsToFrame(outputs, input.RowCount);
        }
        finally
        {
            // The stacked batch is rented: large enough to live on the large-object heap, where a new one per batch
            // would cost a full collection each time.
            switch (pooled)
            {
                case float[] f: System.Buffers.ArrayPool<float>.Shared.Return(f); break;
                case double[] d: System.Buffers.ArrayPool<double>.Shared.Return(d); break;
                case long[] l: System.Buffers.ArrayPool<long>.Shared.Return(l); break;
            }
        }
    }

    /// <summary>Scores a [rows, k] tensor already stacked for the graph's one input (see <see cref="OnnxSplitRequest"/>).</summary>
    internal Frame PredictStacked(TensorData stacked, int rows, CancellationToken ct) =>
        OutputsToFrame(Run(new Dictionary<string, TensorData>(1, StringComparer.Ordinal) { [Inputs[0].Name] = stacked }, ct), rows);

    /// <summary>
    /// Scores a few rows for the graph's one [N, k] float input through reused bound values (see <see cref="OnnxBoundRuns"/>);
    /// false where that way does not take them, <paramref name="refused"/> when ONNX Runtime refused the bound run.
    /// </summary>
    internal bool TryPredictBound(ReadOnlySpan<double> values, int rows, CancellationToken ct, out Frame? frame, out bool refused)
    {
        frame = null;
        refused = false;
        if (_bound == null) return false;
        Dictionary<string, object>? outputs;
        try
        {
            if (!_bound.TryRun(values, rows, ct, out outputs, out refused)) return false;
        }
        catch (OnnxRuntimeException) when (ct.IsCancellationRequested)
        {
            throw new OperationCanceledException($"Scoring model '{Model.Name}' was stopped.", ct);
        }
        frame = OutputsToFrame(outputs!, rows);
        return true;
    }

    /// <summary>After the general path scored what a bound run was refused: bound runs stop for this graph.</summary>
    internal void StopBinding() => _bound?.Disable();

    private static TensorData Reshape(Array data, OnnxPort port, int rows) =>
        new(port.Kind, port.Shape.Length >= 2 ? [rows, 1] : [rows], data);

    /// <summary>Row-major [rows, columns] tensor from columns, in the port's element type.</summary>
    private static TensorData Stack(Frame input, ElementKind kind)
    {
        int rows = input.RowCount, cols = input.Columns.Count;
        var dest = kind switch
        {
            ElementKind.Float32 => System.Buffers.ArrayPool<float>.Shared.Rent(rows * cols),
            ElementKind.Float64 => System.Buffers.ArrayPool<double>.Shared.Rent(rows * cols),
            ElementKind.Int64 => System.Buffers.ArrayPool<long>.Shared.Rent(rows * cols),
            _ => ElementKinds.NewArray(kind, rows * cols),
        };
        for (int c = 0; c < cols; c++)
        {
            var col = CastColumn(input.Columns[c], kind, input.Names[c]);
            switch (dest)
            {
                case float[] fd: { var src = (float[])col; for (int r = 0; r < rows; r++) fd[r * cols + c] = src[r]; break; }
                case double[] dd: { var src = (double[])col; for (int r = 0; r < rows; r++) dd[r * cols + c] = src[r]; break; }
                case long[] ld: { var src = (long[])col; for (int r = 0; r < rows; r++) ld[r * cols + c] = src[r]; break; }
                default: for (int r = 0; r < rows; r++) dest.SetValue(col.GetValue(r), r * cols + c); break;
            }
        }
        return new TensorData(kind, [rows, cols], dest);
    }

    /// <summary>A column in the input's element type: float64 feeds float inputs (as mlflow.onnx does), integers widen.</summary>
    private static Array CastColumn(ColumnData col, ElementKind kind, string name)
    {
        if (col.Kind == kind) return col.Values;
        if (col.Missing != null && col.Missing.Any(m => m))
            throw new SchemaViolationException($"Column '{name}' has missing values, which an ONNX tensor cannot hold.", name);
        var dest = ElementKinds.NewArray(kind, col.Length);
        switch (col.Values, dest)
        {
            // The common casts (a double column feeding a float input, as mlflow.onnx does) without boxing.
            case (double[] d, float[] f): for (int i = 0; i < d.Length; i++) f[i] = (float)d[i]; return dest;
            case (float[] f, double[] d): for (int i = 0; i < f.Length; i++) d[i] = f[i]; return dest;
            case (long[] l, float[] f): for (int i = 0; i < l.Length; i++) f[i] = l[i]; return dest;
            case (long[] l, double[] d): for (int i = 0; i < l.Length; i++) d[i] = l[i]; return dest;
            case (int[] n, long[] l): for (int i = 0; i < n.Length; i++) l[i] = n[i]; return dest;
            case (int[] n, float[] f): for (int i = 0; i < n.Length; i++) f[i] = n[i]; return dest;
            case (int[] n, double[] d): for (int i = 0; i < n.Length; i++) d[i] = n[i]; return dest;
        }
        if (col.Kind.IsNumeric() && kind.IsNumeric())
        {
            var elementType = dest.GetType().GetElementType()!;
            for (int i = 0; i < col.Length; i++)
                dest.SetValue(Convert.ChangeType(col.Values.GetValue(i), elementType, System.Globalization.CultureInfo.InvariantCulture), i);
            return dest;
        }
        if (kind == ElementKind.String)
        {
            for (int i = 0; i < col.Length; i++) dest.SetValue(Convert.ToString(col.Values.GetValue(i),
                System.Globalization.CultureInfo.InvariantCulture), i);
            return dest;
        }
        throw new SchemaViolationException($"Column '{name}' holds {col.Kind.NumpyName()} values, but the model's input takes " +
            $"{kind.NumpyName()}.", name);
    }

    /// <summary>Runs the graph on named tensors and returns every output by name.</summary>
    public IReadOnlyDictionary<string, object> Run(IReadOnlyDictionary<string, TensorData> feeds) => Run(feeds, default);

    /// <summary>As <see cref="Run(IReadOnlyDictionary{string, TensorData})"/>; a cancelled token stops the run between graph nodes.</summary>
    public IReadOnlyDictionary<string, object> Run(IReadOnlyDictionary<string, TensorData> feeds, CancellationToken ct)
    {
        var values = new OrtValue[Inputs.Count];
        var options = _runOptions;
        CancellationTokenRegistration stop = default;
        try
        {
            for (int p = 0; p < Inputs.Count; p++)
            {
                var port = Inputs[p];
                if (!feeds.TryGetValue(port.Name, out var t))
                    throw new SchemaViolationException($"Model is missing inputs ['{port.Name}'].", port.Name);
                CheckShape(port, t);
                values[p] = OrtValues.ToOrtValue(t, port);
            }
            if (ct.CanBeCanceled)
            {
                ct.ThrowIfCancellationRequested();
                options = _stoppable.TryTake(out var spare) ? spare : new RunOptions();
                stop = ct.UnsafeRegister(static o => ((RunOptions)o!).Terminate = true, options);
            }
            using var results = _session.Run(options, _inputNames, values, _outputNames);
            var outputs = new Dictionary<string, object>(StringComparer.Ordinal);
            int i = 0;
            foreach (var r in results) outputs[_outputNames[i++]] = OrtValues.FromOrtValue(r);
            return outputs;
        }
        catch (OnnxRuntimeException) when (ct.IsCancellationRequested)
        {
            throw new OperationCanceledException($"Scoring model '{Model.Name}' was stopped.", ct);
        }
        catch (OnnxRuntimeException ex)
        {
            // The model refused the data (MLflow answers an exception inside predict with 400 BAD_REQUEST).
            throw new ModelPredictionException($"ONNX Runtime failed to score model '{Model.Name}': {ex.Message}", ex);
        }
        finally
        {
            foreach (var v in values) v?.Dispose();
            if (options != _runOptions)
            {
                // Waits for a cancellation callback in progress, so the flag is cleared after it, not before.
                stop.Dispose();
                if (options.Terminate) options.Terminate = false;
                _stoppable.Add(options);
            }
        }
    }

    private static void CheckShape(OnnxPort port, TensorData t)
    {
        if (port.Shape.Length == 0) return;
        if (port.Shape.Length != t.Shape.Length)
            throw new SchemaViolationException($"Input '{port.Name}' must have {port.Shape.Length} dimensions ({ShapeText(port.Shape)}), but it " +
                $"has {t.Shape.Length} ({ShapeText(t.Shape)}).", port.Name);
        for (int d = 0; d < port.Shape.Length; d++)
            if (port.Shape[d] > 0 && port.Shape[d] != t.Shape[d])
                throw new SchemaViolationException($"Input '{port.Name}' must have shape {ShapeText(port.Shape)}, but it has " +
                    $"{ShapeText(t.Shape)}.", port.Name);
    }

    public static string ShapeText(long[] shape) => "(" + string.Join(", ", shape) + (shape.Length == 1 ? ",)" : ")");

    /// <summary>
    /// Outputs as columns: [N] and [N,1] give one column, [N,k] k columns (name_0 …), a sequence of maps
    /// (ZipMap probabilities) one column per key (name_key); anything else one column of per-row arrays.
    /// </summary>
    private Frame OutputsToFrame(IReadOnlyDictionary<string, object> outputs, int rows)
    {
        var names = new List<string>();
        var cols = new List<ColumnData>();
        foreach (var port in Outputs)
        {
            var value = outputs[port.Name];
            if (value is TensorData t)
            {
                if (t.Shape.Length == 0 || t.Shape[0] != rows)
                    throw new PredictionShapeException(
                        $"Output '{port.Name}' has shape {ShapeText(t.Shape)}, not one row per input row; a JSON request with " +
                            $"'inputs' returns the raw tensor.",
                        PredictionShapeProblem.OutputNotPerRow);
                long per = 1;
                for (int d = 1; d < t.Shape.Length; d++) per *= t.Shape[d];
                if (per == 1) { names.Add(port.Name); cols.Add(new ColumnData(t.Kind, t.Data)); }
                else if (t.Shape.Length == 2)
                {
                    for (int j = 0; j < per; j++)
                    {
                        var col = ElementKinds.NewArray(t.Kind, rows);
                        for (int r = 0; r < rows; r++) col.SetValue(t.Data.GetValue(r * per + j), r);
                        names.Add($"{port.Name}_{j}");
                        cols.Add(new ColumnData(t.Kind, col));
                    }
                }
                else
                {
                    var col = new object?[rows];
                    for (int r = 0; r < rows; r++)
                    {
                        var slice = ElementKinds.NewArray(t.Kind, (int)per);
                        Array.Copy(t.Data, r * per, slice, 0, per);
                        col[r] = slice;
                    }
                    names.Add(port.Name);
                    cols.Add(new ColumnData(ElementKind.Object, col));
                }
            }
            else if (value is List<object> seq && seq.All(s => s is Dictionary<object, object?>))
            {
                if (seq.Count != rows) throw new InvalidOperationException($"Output '{port.Name}' has {seq.Count} items for {rows} rows.");
                var keys = seq.SelectMany(s => ((Dictionary<object, object?>)s).Keys).Distinct().ToList();
                foreach (var key in keys)
                {
                    var sample = seq.Select(s => ((Dictionary<object, object?>)s).GetValueOrDefault(key)).FirstOrDefault(x => x != null);
                    var kind = sample != null ? ValueConversion.KindOf(sample) ?? ElementKind.Object : ElementKind.Object;
                    var col = ElementKinds.NewArray(kind, rows);
                    for (int r = 0; r < rows; r++) col.SetValue(((Dictionary<object, object?>)seq[r]).GetValueOrDefault(key), r);
                    names.Add($"{port.Name}_{Convert.ToString(key, System.Globalization.CultureInfo.InvariantCulture)}");
                    cols.Add(new ColumnData(kind, col));
                }
            }
            else
            {
                names.Add(port.Name);
                cols.Add(new ColumnData(ElementKind.Object, Enumerable.Repeat<object?>(value, rows).ToArray()));
            }
        }
        return new Frame(names, cols, rows);
    }

    public void Dispose()
    {
        _runOptions.Dispose();
        _bound?.Dispose();
        while (_stoppable.TryTake(out var o)) o.Dispose();
        _session.Dispose();
    }
}
