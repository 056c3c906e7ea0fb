using System.Diagnostics;
using System.Text.Json;
using MlModels.Core.Format;
using MlModels.Core.Scoring.Onnx;
using MlModels.Core.Scoring.Python;

namespace MlModels.Core.Scoring;

public sealed record PredictionProgress(long RowsDone, TimeSpan Elapsed)
{
    public double RowsPerSecond => Elapsed.TotalSeconds > 0 ? RowsDone / Elapsed.TotalSeconds : 0;
}

/// <summary>A failure part-way through scoring, saying how many rows were done before it.</summary>
public sealed class PredictionFailedException(string message, long rowsDone, Exception inner) : Exception(message, inner)
{
    public long RowsDone { get; } = rowsDone;
    /// <summary>MLflow's error code of the failure inside (null for failures MLflow would answer with a 500).</summary>
    public string? ErrorCode => PredictionEngine.ErrorCodeOf(InnerException);
}

/// <summary>
/// The one scoring path that Invoke-MLModelPrediction and the server share: input (CSV stream, MLflow JSON request,
/// objects, input example) → MLflow's parsing and schema enforcement → the scorer (ONNX or Python) → a
/// <see cref="Prediction"/> that keeps the kind and names of what the model returned → a sink
/// (<see cref="PredictionSink"/>: MLflow JSON, CSV, or the caller's objects).
/// </summary>
public static class PredictionEngine
{
    /// <summary>The ONNX scorer for a model, created on first use and kept with the model object.</summary>
    public static OnnxScorer OnnxScorerFor(MLModel model, OnnxScorerOptions? options = null, Action<string>? warn = null)
    {
        lock (model.ScorerGate)
        {
            if (model.Scorer is OnnxScorer existing) return existing;
            var scorer = OnnxScorer.Load(model, options, warn);
            model.Scorer = scorer;
            return scorer;
        }
    }

    /// <summary>True when the model scores natively (an onnx flavor), false when it needs a Python worker.</summary>
    public static bool IsNative(MLModel model) => model.Flavors.ContainsKey("onnx");

    /// <summary>
    /// The scorer for a model: ONNX in-process (cached with the model), else a Python scorer for its python_function
    /// flavor, which the caller owns and disposes when the command ends (<paramref name="owned"/>). The Python worker
    /// starts (or comes warm from <paramref name="cache"/>; null: one of its own, stopped on Dispose) in the background
    /// while the caller reads its input; scoring waits for it. <paramref name="info"/> says which worker scores.
    /// </summary>
    public static IScorer ScorerFor(MLModel model, OnnxScorerOptions? onnx, PythonOptions? python, Action<string>? warn, Action<string>? stderr,
        IProgress<string>? envProgress, out bool owned, CancellationToken ct = default, PythonWorkerCache? cache = null, Action<string>? info = null)
    {
        if (IsNative(model) && python?.PythonPath == null && python?.EnvManager is null or EnvManager.Local)
        {
            owned = false;
            return OnnxScorerFor(model, onnx, warn);
        }
        if (!model.Flavors.ContainsKey("python_function"))
            throw new InvalidOperationException($"Model '{model.Name}' has neither an onnx nor a python_function flavor (it has " +
                $"{string.Join(", ", model.FlavorNames)}), so it cannot be scored here.");
        owned = true;
        return PythonScorer.Begin(model, python, stderr, warn, envProgress, cache, info, ct);
    }

    /// <summary>Waits until the scorer can score (a Python worker still starting); its start failures surface here as themselves.</summary>
    public static void WaitReady(IScorer scorer, CancellationToken ct)
    {
        if (scorer is PythonScorer python) python.WaitReady(ct);
    }

    /// <summary>MLflow's error code for a scoring failure: BAD_REQUEST or INVALID_PARAMETER_VALUE, null for an internal error.</summary>
    public static string? ErrorCodeOf(Exception? ex) => ex switch
    {
        SchemaViolationException sv => sv.ErrorCode,
        ModelPredictionException mp => mp.ErrorCode,
        PredictionFailedException pf => pf.ErrorCode,
        _ => null,
    };

    /// <summary>The planner for a table's columns under the model's schema; its warning (extra columns) is given once.</summary>
    public static ColumnPlanner Planner(IScorer scorer, Action<string>? warn)
    {
        bool warned = false;
        return names => scorer.PlanColumns(names, warned || warn == null ? null : msg => { warned = true; warn(msg); });
    }

    /// <summary>
    /// MLflow's schema enforcement for a table: a tensor signature turns it into arrays (unless the backend feeds
    /// frames itself), and without a signature the columns get pandas' own types.
    /// </summary>
    public static ModelInput Enforce(IScorer scorer, Frame frame, bool fromText, bool asPredictCommand = false)
    {
        var schema = scorer.Model.Signature?.Inputs;
        if (scorer.FeedsFrames) return new FrameInput(frame);
        if (schema is { IsTensorBased: true })
        {
            if (asPredictCommand) RequireDtype(schema, ElementKinds.Common(PandasTypes.Infer(frame, fromText).Columns.Select(c => c.Kind)));
            return TensorConversion.FromFrame(frame, schema);
        }
        if (schema is not { Columns.Count: > 0 }) frame = PandasTypes.Infer(frame, fromText);
        return new FrameInput(frame);
    }

    /// <summary>
    /// An MLflow JSON request as MLflow's scoring server reads it (<c>infer_and_parse_data</c>), then checked against
    /// the model's signature (<c>_enforce_schema</c>). Read failures are BAD_REQUEST, schema failures INVALID_PARAMETER_VALUE.
    /// </summary>
    /// <remarks>
    /// <paramref name="asPredictCommand"/>: read as <c>mlflow models predict</c> reads a JSON file, without the schema
    /// (pandas' and numpy's own types), so a tensor signature takes only its exact dtype; the server casts by the schema.
    /// </remarks>
    public static ModelInput FromRequest(IScorer scorer, ScoringRequest request, Action<string>? warn, bool asPredictCommand = false)
    {
        var schema = scorer.Model.Signature?.Inputs;
        bool columnSig = schema is { IsTensorBased: false, Columns.Count: > 0 };
        bool tensorSig = schema is { IsTensorBased: true };
        var planner = Planner(scorer, warn);
        if (request.Format == "dataframe_split") return Enforce(scorer, JsonTable.FromSplit(request.Data).ToFrame(planner), false, asPredictCommand);
        if (request.Format == "dataframe_records") return Enforce(scorer, JsonTable.FromRecords(request.Data, request.Format).ToFrame(planner),
            false, asPredictCommand);
        if (asPredictCommand && tensorSig && !scorer.FeedsFrames && !request.IsUnified)
        {
            // numpy's reading of each value the request holds: one array, or one per named input.
            var d = request.Data;
            if (d.ValueKind == JsonValueKind.Object) foreach (var p in d.EnumerateObject()) RequireDtype(schema!, ElementKinds.OfJson(p.Value),
                p.Name);
            else RequireDtype(schema!, ElementKinds.OfJson(d));
        }
        var paramSchema = scorer.Model.Signature?.Params;
        if (request.IsUnified)
        {
            if (columnSig) return Enforce(scorer, JsonTable.FromColumns(request.UnifiedData(paramSchema), false).ToFrame(planner), false);
            if (tensorSig) throw new SchemaViolationException($"Failed to enforce schema: the request is MLflow's unwrapped form (a dict with " +
                $"{ColumnPlan.PyList(ScoringRequest.UnifiedKeys)}), which the model's tensor signature does not take.");
            return new JsonInput(request.RawData(paramSchema), request.Format);
        }
        bool instances = request.Format == "instances";
        var data = request.Data;
        IReadOnlyList<KeyValuePair<string, JsonElement>>? columns = null;
        bool fromRecords = false;
        if (data.ValueKind == JsonValueKind.Object)
            columns = data.EnumerateObject().Select(p => p.Name).Distinct().Select(n => KeyValuePair.Create(n, data.GetProperty(n))).ToList();
        else if (instances && data.ValueKind == JsonValueKind.Array && data.GetArrayLength() > 0 && data[0].ValueKind == JsonValueKind.Object)
        {
            columns = RecordsToColumns(data);
            fromRecords = true;
        }
        bool records = columns == null && data.ValueKind == JsonValueKind.Array && data.GetArrayLength() > 0
            && data.EnumerateArray().All(x => x.ValueKind == JsonValueKind.Object);

        if (!columnSig && !tensorSig)
        {
            // ONNX without a signature: records are a table; other forms feed the graph's inputs by name.
            if (scorer.FeedsFrames && records) return Enforce(scorer, JsonTable.FromRecords(data, request.Format).ToFrame(planner), false);
            if (scorer.FeedsFrames && fromRecords) return Enforce(scorer, JsonTable.FromColumns(columns!, true).ToFrame(planner), false);
            if (instances && columns != null) JsonTable.FromColumns(columns, true); // the row form's lengths are checked while parsing
            return new JsonInput(fromRecords ? PyJsonWriter.Serialize(columns!.ToDictionary(c => c.Key,
                c => PyJson.ToPlain(System.Text.Json.Nodes.JsonNode.Parse(c.Value.GetRawText())))) : data.GetRawText(),
                fromRecords ? "inputs" : request.Format);
        }
        if (columnSig)
        {
            if (columns != null) return Enforce(scorer, JsonTable.FromColumns(columns, instances).ToFrame(planner), false);
            if (records) return Enforce(scorer, JsonTable.FromRecords(data, request.Format).ToFrame(planner), false);
            if (schema!.Columns.Count == 1 && data.ValueKind == JsonValueKind.Array)
                return Enforce(scorer,
                    JsonTable.FromColumns([KeyValuePair.Create(schema.Columns[0].Name ?? "0", data)], instances).ToFrame(planner), false);
            // A list of lists is an array (converted with the first column's type, as MLflow does), which has no named columns.
            var array = TensorConversion.FromJson(data, ElementKinds.FromDataType(schema.Columns[0].Type), request.Format);
            throw new SchemaViolationException($"Failed to enforce schema of data with schema '{schema}'. Error: Model is missing inputs " +
                $"{ColumnPlan.PyList(schema.Columns.Select(c => c.Name ?? ""))}: " +
                $"the model has a column-based signature, which takes a table (dataframe_split, dataframe_records, or {request.Format} as records " +
                    $"or a dict of columns), but the input is an array of shape {TensorConversion.ShapeText(array.Shape)}.");
        }
        if (!schema!.HasNames)
        {
            var spec = schema.Tensors[0];
            if (columns != null && !fromRecords)
                throw SchemaViolationException.BadInput("Invalid input. Failed to parse input data. This model contains an un-named tensor-based " +
                    "model signature which expects a single n-dimensional array as input, however, an input of type dict was found.");
            if (columns != null || records)
                throw new SchemaViolationException($"Failed to enforce schema with schema '{spec}'. Error: This model contains a tensor-based " +
                    $"model signature with no input names, which suggests a numpy array input, but an input of type " +
                    $"{(records ? "list of dicts" : "dict")} was found.");
            var tensor = TensorConversion.RestoreEmptyShape(TensorConversion.FromJson(data, TensorConversion.KindOf(spec), "input"), spec.Shape);
            TensorConversion.Check(spec, spec.Name ?? "input", tensor);
            return new TensorInput(tensor);
        }
        if (columns == null)
        {
            if (schema.Tensors.Count == 1 && !records
                && data.ValueKind == JsonValueKind.Array) columns = [KeyValuePair.Create(schema.Tensors[0].Name!, data)];
            else throw new SchemaViolationException($"Failed to enforce schema: this model contains a tensor-based model signature with input " +
                $"names {ColumnPlan.PyList(schema.Tensors.Select(t => t.Name!))}, which suggests a dict input mapping input name to array.");
        }
        var tensors = new List<KeyValuePair<string, TensorData>>();
        var missing = schema.Tensors.Where(s => columns.All(c => c.Key != s.Name)).Select(s => s.Name!).ToList();
        if (missing.Count > 0) throw new SchemaViolationException($"Failed to enforce schema. Error: Model is missing inputs " +
            $"{ColumnPlan.PyList(missing)}.", missing[0]);
        foreach (var spec in schema.Tensors)
        {
            var value = columns.First(c => c.Key == spec.Name).Value;
            var tensor = TensorConversion.RestoreEmptyShape(TensorConversion.FromJson(value, TensorConversion.KindOf(spec), spec.Name!), spec.Shape);
            TensorConversion.Check(spec, spec.Name!, tensor);
            tensors.Add(KeyValuePair.Create(spec.Name!, tensor));
        }
        return new TensorDictInput(tensors);
    }

    /// <summary>MLflow's conversion of <c>instances</c> records into a dict of column lists.</summary>
    private static List<KeyValuePair<string, JsonElement>> RecordsToColumns(JsonElement records)
    {
        var order = new List<string>();
        var values = new Dictionary<string, List<JsonElement>>(StringComparer.Ordinal);
        foreach (var rec in records.EnumerateArray())
        {
            if (rec.ValueKind != JsonValueKind.Object) throw SchemaViolationException.BadInput("Invalid input. Failed to parse data as TF serving " +
                "input: every item of 'instances' must be an object when the first one is.");
            // A key repeated in one record counts once, with its last value, as json.loads reads it.
            foreach (var name in rec.EnumerateObject().Select(p => p.Name).Distinct())
            {
                if (!values.TryGetValue(name, out var list)) { values[name] = list = []; order.Add(name); }
                list.Add(rec.GetProperty(name));
            }
        }
        return order.Select(n => KeyValuePair.Create(n, JsonArrayOf(values[n]))).ToList();
    }

    /// <summary>The elements as one JSON array (written out and read back: no reflection-based serializer, which the
    /// native server lacks).</summary>
    private static JsonElement JsonArrayOf(List<JsonElement> items)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            foreach (var item in items) item.WriteTo(writer);
            writer.WriteEndArray();
        }
        using var doc = JsonDocument.Parse(buffer.WrittenMemory);
        return doc.RootElement.Clone();
    }

    /// <summary>One MLflow JSON request, start to end: read, enforce the schema, check params, predict.</summary>
    /// <summary>
    /// MLflow's <c>_enforce_tensor_spec</c>: the input's own dtype must be the spec's. Only where the input was read
    /// without the schema (<c>mlflow models predict</c>); <paramref name="input"/> names one of several named tensors.
    /// </summary>
    private static void RequireDtype(Schema schema, ElementKind? actual, string? input = null)
    {
        var spec = input == null ? schema.Tensors[0] : schema.Tensors.FirstOrDefault(t => t.Name == input);
        if (spec == null || actual is not ElementKind kind) return;
        var expected = TensorConversion.KindOf(spec);
        if (kind != expected)
            throw new SchemaViolationException($"Failed to enforce schema of data with schema '{spec}'. Error: dtype of input {kind.NumpyName()} " +
                $"does not match expected dtype {expected.NumpyName()}. " +
                "(This is how mlflow models predict reads a file: without the schema, so numbers are float64 or int64. MLflow's scoring server, " +
                    "and Start-MLModelServer, cast them by the signature instead.)", input);
    }

    public static Prediction ScoreRequest(IScorer scorer, ScoringRequest request, Action<string>? warn, CancellationToken ct = default)
    {
        var input = FromRequest(scorer, request, warn);
        return scorer.Predict(input, ParamsFor(scorer.Model, request, null, warn), ct);
    }

    /// <summary>
    /// The params a prediction gets: the request's (if any), with <paramref name="given"/> on top, a given value
    /// replacing the request's of the same name; then enforced by the model's param schema. Params that are not a
    /// dictionary in the request are left to the schema to refuse.
    /// </summary>
    public static IReadOnlyDictionary<string, object?> ParamsFor(MLModel model, ScoringRequest? request,
        IReadOnlyDictionary<string, object?>? given, Action<string>? warn)
    {
        var schema = model.Signature?.Params;
        var fromRequest = request?.ParamsFor(schema);
        object? merged = fromRequest;
        if (given != null && fromRequest is IDictionary<string, object?> or null)
        {
            var all = new Dictionary<string, object?>((IDictionary<string, object?>?)fromRequest ?? new Dictionary<string, object?>(),
                StringComparer.Ordinal);
            foreach (var (k, v) in given) all[k] = v;
            merged = all;
        }
        return ParamsEnforcement.Apply(schema, merged, warn);
    }

    /// <summary>
    /// Rows per batch when the caller asks for <paramref name="requested"/> (0: choose). ONNX batches stay small enough
    /// that their columns avoid the large-object heap; Python batches are larger because each is a round trip to the worker.
    /// </summary>
    /// <remarks>While the model is not yet known (null), the smaller size.</remarks>
    public static int BatchSizeFor(MLModel? model, int requested = 0) =>
        requested > 0 ? requested : model == null || IsNative(model) ? OnnxBatchSize : PythonBatchSize;

    public const int OnnxBatchSize = 10_000;
    public const int PythonBatchSize = 50_000;

    /// <summary>A model's saved input example as the MLflow request it stands for.</summary>
    public static ScoringRequest ExampleRequest(MLModel model)
    {
        var example = InputExample.Read(model);
        object? body = example.Rows != null
            ? new Dictionary<string,
                object?>
            { ["dataframe_split"] = new Dictionary<string, object?> { ["columns"] = example.Columns, ["data"] = example.Rows } }
            : example.Data is System.Collections.IDictionary d && (d.Contains("inputs") || d.Contains("instances")) ? example.Data
            : new Dictionary<string, object?> { ["inputs"] = example.Data };
        return ScoringRequest.Parse(PyJsonWriter.Serialize(body), example.File ?? "input example");
    }

    /// <summary>
    /// Scores tables one after another (each through <see cref="Enforce"/>); a failure names the rows already done.
    /// <paramref name="fromText"/>: the tables were read from CSV text (pandas' type inference applies to them).
    /// </summary>
    public static IEnumerable<(Frame Input, Prediction Output)> ScoreFrames(IScorer scorer, IEnumerable<Frame> inputs,
        IProgress<PredictionProgress>? progress = null, CancellationToken ct = default,
        IReadOnlyDictionary<string, object?>? parameters = null, bool fromText = false, bool asPredictCommand = false)
    {
        var clock = Stopwatch.StartNew();
        long done = 0;
        using var e = inputs.GetEnumerator();
        while (true)
        {
            Frame input;
            Prediction output;
            bool more;
            try
            {
                ct.ThrowIfCancellationRequested();
                more = e.MoveNext();
                input = more ? e.Current : null!;
            }
            catch (Exception ex) when (IsBatchFailure(ex))
            {
                throw new PredictionFailedException($"{ex.Message} ({done:N0} rows were scored before this.)", done, ex);
            }
            // The first batch was read while the worker started; a worker that could not start fails as itself.
            if (done == 0) WaitReady(scorer, ct);
            if (!more) yield break;
            try { output = scorer.Predict(Enforce(scorer, input, fromText, asPredictCommand), parameters); }
            catch (Exception ex) when (IsBatchFailure(ex))
            {
                throw new PredictionFailedException($"{ex.Message} ({done:N0} rows were scored before this.)", done, ex);
            }
            done += input.RowCount;
            progress?.Report(new PredictionProgress(done, clock.Elapsed));
            yield return (input, output);
        }
    }

    private static bool IsBatchFailure(Exception ex) =>
        ex is SchemaViolationException or ModelPredictionException or InvalidOperationException or FormatException or PythonWorkerException;

    /// <summary>A CSV file in batches under the model's schema, read ahead on another thread.</summary>
    public static IEnumerable<Frame> CsvFrames(IScorer scorer, string path, int batchSize, Action<string>? warn, CancellationToken ct = default) =>
        Prefetch(CsvInput.Read(path, Planner(scorer, warn), batchSize, ct), 2, ct);

    /// <summary>
    /// A CSV request body as MLflow's scoring server reads it: with a tensor signature it is refused (MLflow's
    /// server cannot give pandas a dtype for a tensor), else one table, predicted in one call as MLflow does.
    /// </summary>
    public static Prediction ScoreCsvBody(IScorer scorer, Stream body, Action<string>? warn, CancellationToken ct)
    {
        if (scorer.Model.Signature?.Inputs is { IsTensorBased: true } && !scorer.FeedsFrames)
            throw SchemaViolationException.BadInput("Failed to parse input as a Pandas DataFrame. The model has a tensor signature, and MLflow's " +
                "scoring server reads CSV only for column signatures (TensorSpec only supports numpy types); send JSON 'inputs' instead.");
        var frames = CsvInput.Read(body, "the request's CSV body", Planner(scorer, warn), 10_000, ct).ToList();
        if (scorer.FeedsFrames && frames.Count > 1)
            return Prediction.Concat(frames.Select(f => scorer.Predict(Enforce(scorer, f, true), null, ct)).ToList());
        return scorer.Predict(Enforce(scorer, Frame.Concat(frames), true), null, ct);
    }

    /// <summary>
    /// Reads ahead on another thread, holding at most <paramref name="depth"/> batches, so parsing the next batch
    /// overlaps scoring and writing this one while memory stays bounded. Errors surface in order, at the batch they hit.
    /// </summary>
    public static IEnumerable<T> Prefetch<T>(IEnumerable<T> source, int depth, CancellationToken ct)
    {
        using var queue = new System.Collections.Concurrent.BlockingCollection<T>(depth);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        Exception? failure = null;
        var producer = Task.Run(() =>
        {
            try { foreach (var item in source) queue.Add(item, stop.Token); }
            catch (OperationCanceledException) when (stop.IsCancellationRequested && !ct.IsCancellationRequested) { }
            catch (Exception ex) { failure = ex; }
            finally { queue.CompleteAdding(); }
        }, CancellationToken.None); // the producer always runs, so that CompleteAdding ends the consumer
        try
        {
            foreach (var item in queue.GetConsumingEnumerable(ct)) yield return item;
            producer.Wait(ct);
            if (failure != null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failure).Throw();
        }
        finally
        {
            stop.Cancel();
            try { producer.Wait(CancellationToken.None); } catch (AggregateException) { }
        }
    }
}
