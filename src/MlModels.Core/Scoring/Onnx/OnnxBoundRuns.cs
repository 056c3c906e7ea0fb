using System.Collections.Concurrent;
using Microsoft.ML.OnnxRuntime;

namespace MlModels.Core.Scoring.Onnx;

/// <summary>
/// Reused ONNX Runtime values for the short path's small requests (at most <see cref="MaxRows"/> rows): each binding
/// holds pinned input and output buffers of one shape, bound to the session once (IoBinding), so a run marshals no
/// names and makes no tensors. A binding serves one run at a time: runs take one from the pool of their row count and
/// put it back after. Only graphs whose one input is [N, k] float and whose outputs are numeric tensors of known shape
/// but for the batch dimension take this way.
/// </summary>
internal sealed class OnnxBoundRuns : IDisposable
{
    public const int MaxRows = 8;

    private readonly InferenceSession _session;
    private readonly OnnxPort _input;
    private readonly IReadOnlyList<OnnxPort> _outputs;
    private readonly ConcurrentBag<Binding>[] _free = new ConcurrentBag<Binding>[MaxRows + 1];
    private volatile bool _off;

    private OnnxBoundRuns(InferenceSession session, OnnxPort input, IReadOnlyList<OnnxPort> outputs)
    {
        _session = session;
        _input = input;
        _outputs = outputs;
        for (int r = 1; r <= MaxRows; r++) _free[r] = [];
    }

    /// <summary>The bound runs for a graph, or null where its input or outputs do not fit them.</summary>
    public static OnnxBoundRuns? For(InferenceSession session, IReadOnlyList<OnnxPort> inputs, IReadOnlyList<OnnxPort> outputs)
    {
        if (inputs.Count != 1 || inputs[0] is not { Kind: ElementKind.Float32 or ElementKind.Float64, Shape.Length: 2 } input) return null;
        if (input.Shape[1] <= 0) return null;
        foreach (var o in outputs)
        {
            if (o.ValueType != OnnxValueType.ONNX_TYPE_TENSOR || o.Shape.Length == 0) return null;
            if (o.Kind is not (ElementKind.Float32 or ElementKind.Float64 or ElementKind.Int64 or ElementKind.Int32)) return null;
            for (int d = 1; d < o.Shape.Length; d++) if (o.Shape[d] <= 0) return null;
        }
        return new OnnxBoundRuns(session, input, outputs);
    }

    /// <summary>
    /// Runs the graph on <paramref name="values"/> ([rows, k], row-major, narrowed as the general path narrows them) into
    /// fresh output tensors by name. False, with nothing to show for it, where this request or this graph does not fit,
    /// or ONNX Runtime refused the run (then the general path runs it and answers, errors included). A run stopped by
    /// <paramref name="ct"/> throws ONNX Runtime's exception.
    /// </summary>
    public bool TryRun(ReadOnlySpan<double> values, int rows, CancellationToken ct, out Dictionary<string, object>? outputs, out bool refused)
    {
        outputs = null;
        refused = false;
        if (_off || rows < 1 || rows > MaxRows || values.Length != rows * _input.Shape[1]) return false;
        if (_input.Shape[0] > 0 && _input.Shape[0] != rows) return false;
        if (!_free[rows].TryTake(out var b))
        {
            b = Binding.Create(_session, _input, _outputs, rows);
            if (b == null) { _off = true; return false; }
        }
        bool keep = false;
        try
        {
            if (b.Input is float[] f) for (int i = 0; i < values.Length; i++) f[i] = (float)values[i];
            else values.CopyTo((double[])b.Input);
            CancellationTokenRegistration stop = default;
            if (ct.CanBeCanceled)
            {
                ct.ThrowIfCancellationRequested();
                stop = ct.UnsafeRegister(static o => ((RunOptions)o!).Terminate = true, b.Options);
            }
            try
            {
                _session.RunWithBinding(b.Options, b.IoBinding);
            }
            catch (OnnxRuntimeException) when (!ct.IsCancellationRequested)
            {
                refused = true;
                return false;
            }
            finally
            {
                // Waits for a cancellation callback in progress, so the flag is cleared after it, not before.
                stop.Dispose();
                if (b.Options.Terminate) b.Options.Terminate = false;
            }
            outputs = new Dictionary<string, object>(_outputs.Count, StringComparer.Ordinal);
            for (int o = 0; o < _outputs.Count; o++)
                outputs[_outputs[o].Name] = new TensorData(_outputs[o].Kind, b.OutputShapes[o], (Array)b.Outputs[o].Clone());
            keep = true;
            return true;
        }
        finally
        {
            if (keep) _free[rows].Add(b);
            else b.Dispose();
        }
    }

    /// <summary>Stops using bindings for this graph: the general path scored what a binding was refused (outputs of
    /// shapes other than the graph declares).</summary>
    public void Disable() => _off = true;

    public void Dispose()
    {
        _off = true;
        foreach (var bag in _free)
            if (bag != null)
                while (bag.TryTake(out var b)) b.Dispose();
    }

    private sealed class Binding : IDisposable
    {
        public required Array Input { get; init; }
        public required Array[] Outputs { get; init; }
        public required long[][] OutputShapes { get; init; }
        public required OrtIoBinding IoBinding { get; init; }
        public required RunOptions Options { get; init; }
        public required OrtValue[] Values { get; init; }

        public static Binding? Create(InferenceSession session, OnnxPort input, IReadOnlyList<OnnxPort> outputs, int rows)
        {
            var values = new List<OrtValue>();
            OrtIoBinding? io = null;
            try
            {
                long[] inShape = [rows, input.Shape[1]];
                var (inArray, inValue) = Pinned(input.Kind, inShape);
                values.Add(inValue);
                io = session.CreateIoBinding();
                io.BindInput(input.Name, inValue);
                var outArrays = new Array[outputs.Count];
                var shapes = new long[outputs.Count][];
                for (int o = 0; o < outputs.Count; o++)
                {
                    var shape = (long[])outputs[o].Shape.Clone();
                    if (shape[0] <= 0) shape[0] = rows;
                    shapes[o] = shape;
                    var (array, value) = Pinned(outputs[o].Kind, shape);
                    values.Add(value);
                    outArrays[o] = array;
                    io.BindOutput(outputs[o].Name, value);
                }
                return new Binding
                {
                    Input = inArray, Outputs = outArrays, OutputShapes = shapes, IoBinding = io, Options = new RunOptions(),
                    Values = [.. values],
                };
            }
            catch (OnnxRuntimeException)
            {
                io?.Dispose();
                foreach (var v in values) v.Dispose();
                return null;
            }
        }

        private static (Array, OrtValue) Pinned(ElementKind kind, long[] shape)
        {
            long n = 1;
            foreach (var d in shape) n *= d;
            return kind switch
            {
                ElementKind.Float32 => Pinned<float>(n, shape),
                ElementKind.Float64 => Pinned<double>(n, shape),
                ElementKind.Int64 => Pinned<long>(n, shape),
                _ => Pinned<int>(n, shape),
            };
        }

        private static (Array, OrtValue) Pinned<T>(long n, long[] shape) where T : unmanaged
        {
            var a = GC.AllocateArray<T>((int)n, pinned: true);
            return (a, OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, a.AsMemory(), shape));
        }

        public void Dispose()
        {
            IoBinding.Dispose();
            foreach (var v in Values) v.Dispose();
            Options.Dispose();
        }
    }
}
