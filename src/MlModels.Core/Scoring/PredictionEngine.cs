using System.Diagnostics;
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
}

/// <summary>Ties inputs, a model's scorer and outputs together; the cmdlets and the server call this.</summary>
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
    /// The scorer for a model: ONNX in-process (cached with the model), else a Python worker for its python_function
    /// flavor, which the caller owns and disposes when the command ends (<paramref name="owned"/>).
    /// </summary>
    public static IScorer ScorerFor(MLModel model, OnnxScorerOptions? onnx, PythonOptions? python, Action<string>? warn, Action<string>? stderr,
        IProgress<string>? envProgress, out bool owned, CancellationToken ct = default)
    {
        if (IsNative(model) && python?.PythonPath == null && python?.EnvManager is null or EnvManager.Local)
        {
            owned = false;
            return OnnxScorerFor(model, onnx, warn);
        }
        if (!model.Flavors.ContainsKey("python_function"))
            throw new InvalidOperationException($"Model '{model.Name}' has neither an onnx nor a python_function flavor (it has {string.Join(", ", model.FlavorNames)}), so it cannot be scored here.");
        owned = true;
        return PythonScorer.Start(model, python, stderr, warn, envProgress, ct);
    }

    /// <summary>Scores batches one after another; a failure names the rows already done.</summary>
    public static IEnumerable<(Frame Input, Frame Output)> ScoreFrames(IScorer scorer, IEnumerable<Frame> inputs, IProgress<PredictionProgress>? progress = null, CancellationToken ct = default,
        IReadOnlyDictionary<string, object?>? parameters = null)
    {
        var clock = Stopwatch.StartNew();
        long done = 0;
        using var e = inputs.GetEnumerator();
        while (true)
        {
            Frame input, output;
            try
            {
                ct.ThrowIfCancellationRequested();
                if (!e.MoveNext()) yield break;
                input = e.Current;
                output = scorer.Predict(input, parameters);
            }
            catch (Exception ex) when (ex is SchemaViolationException or InvalidOperationException or FormatException or PythonWorkerException)
            {
                throw new PredictionFailedException($"{ex.Message} ({done:N0} rows were scored before this.)", done, ex);
            }
            done += input.RowCount;
            progress?.Report(new PredictionProgress(done, clock.Elapsed));
            yield return (input, output);
        }
    }

    public static IEnumerable<Frame> CsvFrames(IScorer scorer, string path, int batchSize, Action<string>? warn, CancellationToken ct = default)
    {
        bool warned = false;
        ColumnPlanner planner = names => scorer.PlanColumns(names, warned ? null : msg => { warned = true; warn?.Invoke(msg); });
        if (scorer is PythonScorer { NeedsTypeSample: true } && File.Exists(path))
        {
            // No column signature: read the CSV's types from a sample, as pandas would, every column optional.
            var sample = SignatureInference.FromCsv(path, 1000);
            planner = names => sample.Columns.Select((c, i) => new ColumnTarget(c.Name!, ElementKinds.FromDataType(c.Type), i, false, null)).ToList();
        }
        return Prefetch(CsvInput.Read(path, planner, batchSize, ct), 2, ct);
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
        });
        try
        {
            foreach (var item in queue.GetConsumingEnumerable(ct)) yield return item;
            producer.Wait(ct);
            if (failure != null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failure).Throw();
        }
        finally
        {
            stop.Cancel();
            try { producer.Wait(); } catch (AggregateException) { }
        }
    }

    /// <summary>Scores the tensor forms of a request (inputs/instances not given as records): named tensors in, named outputs out.</summary>
    public static IReadOnlyDictionary<string, object> ScoreTensors(OnnxScorer scorer, ScoringRequest request)
    {
        var elements = request.TensorElements();
        var feeds = new Dictionary<string, TensorData>(StringComparer.Ordinal);
        foreach (var (name, element) in elements)
        {
            var port = name == null
                ? (scorer.Inputs.Count == 1 ? scorer.Inputs[0] : throw new SchemaViolationException($"The model takes {scorer.Inputs.Count} inputs ({ColumnPlan.PyList(scorer.Inputs.Select(i => i.Name))}); name each one: {{\"inputs\": {{\"name\": [...]}}}}."))
                : scorer.Inputs.FirstOrDefault(p => p.Name == name) ?? throw new SchemaViolationException($"The model has no input named '{name}'; its inputs are {ColumnPlan.PyList(scorer.Inputs.Select(i => i.Name))}.", name);
            var tensor = ScoringRequest.ToTensor(element, port.Kind, port.Name);
            var spec = SpecFor(scorer.Model.Signature?.Inputs, port.Name, elements.Count == 1);
            tensor = RestoreEmptyShape(tensor, spec?.Shape ?? port.Shape);
            CheckTensorSpec(spec, port.Name, tensor);
            feeds[port.Name] = tensor;
        }
        return scorer.Run(feeds);
    }

    private static TensorSpec? SpecFor(Schema? schema, string name, bool single) =>
        schema is not { IsTensorBased: true } ? null
            : schema.Tensors.FirstOrDefault(s => s.Name == name) ?? (single && schema.Tensors.Count == 1 ? schema.Tensors[0] : null);

    /// <summary>
    /// Nested JSON lists cannot say the inner sizes of an empty tensor ([] is (0,) whatever was meant), so an empty
    /// input takes its missing trailing dimensions from the declared shape.
    /// </summary>
    private static TensorData RestoreEmptyShape(TensorData t, long[] declared)
    {
        if (t.ElementCount != 0 || declared.Length <= t.Shape.Length) return t;
        var shape = declared.Select((d, i) => i < t.Shape.Length ? t.Shape[i] : Math.Max(d, 0)).ToArray();
        return t with { Shape = shape };
    }

    /// <summary>MLflow's <c>_enforce_tensor_spec</c>: shape must match, -1 matching any size.</summary>
    private static void CheckTensorSpec(TensorSpec? spec, string name, TensorData t)
    {
        if (spec == null) return;
        var shape = spec.Shape;
        bool ok = shape.Length == t.Shape.Length && shape.Zip(t.Shape).All(p => p.First == -1 || p.First == p.Second);
        if (!ok)
            throw new SchemaViolationException($"Shape of input {OnnxScorer.ShapeText(t.Shape)} does not match expected shape {OnnxScorer.ShapeText(shape)} for tensor '{name}'.", name);
    }
}
