using System.Diagnostics.CodeAnalysis;
using MlModels.Core.Scoring;

namespace MlModels.Core.Serving.OpenInference;

/// <summary>
/// What the model returned as output tensors, as MLServer's MLflow runtime encodes it (<c>encode_response</c>, the codec
/// found by the value's type): a DataFrame one output per column, shape [N, 1] (<c>PandasCodec</c>, content type
/// <c>pd</c>); an array the one output <c>output-1</c> (<c>NumpyRequestCodec</c>, <c>np</c>), a 1-D array's shape
/// [N] given as [N, 1] (<c>inject_batch_dimension</c>); a dict of arrays one output per key (<c>TensorDictCodec</c>,
/// <c>dict</c>); a list of strings <c>output-1</c> as BYTES (<c>StringRequestCodec</c>, <c>str</c>). Strings are
/// BYTES with content type <c>str</c>; other values of an object column are JSON text (<c>pd_json</c>); NaN is null.
/// </summary>
public static class InferenceEncoder
{
    public const string DefaultOutput = "output-1";

    /// <summary>The outputs, and the response's content type.</summary>
    public static (IReadOnlyList<ResponseOutput> Outputs, string? ContentType) Encode(Prediction prediction)
    {
        ArgumentNullException.ThrowIfNull(prediction);
        switch (prediction)
        {
            case TablePrediction { IsSeries: true, Unnamed: true } series:
                return ([Column(DefaultOutput, series.Frame.Columns[0], series.Frame.RowCount)], InferenceDecoder.Pandas);
            case TablePrediction table:
                var f = table.Frame;
                return (f.Names.Select((n, c) => Column(n, f.Columns[c], f.RowCount)).ToList(), InferenceDecoder.Pandas);
            case TensorPrediction tensor:
                return ([Tensor(DefaultOutput, tensor.Tensor)], InferenceDecoder.Numpy);
            case DictPrediction dict:
                return (dict.Items.Select(kv => One(kv.Key, kv.Value)).ToList(),
                    dict.Items.All(kv => kv.Value is TensorPrediction) ? InferenceDecoder.TensorDict : null);
            default:
                var output = One(DefaultOutput, prediction);
                return ([output], output.Parameters?.GetValueOrDefault("content_type") == "str" ? "str" : null);
        }
    }

    private static ResponseOutput One(string name, Prediction p) => p switch
    {
        TensorPrediction t => Tensor(name, t.Tensor),
        TablePrediction { Frame.Columns.Count: 1 } s => Column(name, s.Frame.Columns[0], s.Frame.RowCount),
        ValuePrediction { Value: System.Collections.IList list } => List(name, list),
        ValuePrediction v => List(name, new object?[] { v.Value }),
        _ => throw new InvalidOperationException($"The model returned a {p.Kind} under '{name}', which has no tensor form."),
    };

    private static ResponseOutput Tensor(string name, TensorData t)
    {
        long[] shape = t.Shape.Length > 1 ? t.Shape : [.. t.Shape, 1];
        var values = t.Data.Length == t.ElementCount ? t.Data : Trim(t.Data, (int)t.ElementCount);
        return Typed(name, shape, t.Kind, values, null, "np");
    }

    private static ResponseOutput Column(string name, ColumnData col, int rows) =>
        Typed(name, [rows, 1], col.Kind, col.Values.Length == rows ? col.Values : Trim(col.Values, rows), col.Missing, null);

    private static ResponseOutput Typed(string name, long[] shape, ElementKind kind, Array values, bool[]? missing, string? numericType)
    {
        var datatype = TensorDatatypes.Of(kind);
        if (datatype != TensorDatatypes.Bytes)
            return new ResponseOutput(name, shape, datatype, numericType == null ? null : new() { ["content_type"] = numericType },
                new TensorValues(values, missing));
        var items = new object?[values.Length];
        for (int i = 0; i < items.Length; i++) items[i] = missing != null && missing[i] ? null : values.GetValue(i);
        return Bytes(name, shape, items);
    }

    /// <summary>A list: numbers and booleans of one kind as that kind's tensor, anything else as BYTES.</summary>
    private static ResponseOutput List(string name, System.Collections.IList list)
    {
        var items = new object?[list.Count];
        list.CopyTo(items, 0);
        ElementKind? common = null;
        bool scalar = items.All(v => v is bool or long or int or double or float);
        if (scalar && items.Length > 0)
        {
            common = items.All(v => v is bool) ? ElementKind.Bool : items.All(v => v is long or int) ? ElementKind.Int64
                : items.All(v => v is not bool) ? ElementKind.Float64 : null;
        }
        if (common is ElementKind kind)
        {
            var values = ElementKinds.NewArray(kind, items.Length);
            for (int i = 0; i < items.Length; i++)
                values.SetValue(kind == ElementKind.Float64 ? Convert.ToDouble(items[i], System.Globalization.CultureInfo.InvariantCulture)
                    : kind == ElementKind.Int64 ? Convert.ToInt64(items[i], System.Globalization.CultureInfo.InvariantCulture) : items[i], i);
            return new ResponseOutput(name, [items.Length, 1], TensorDatatypes.Of(kind), null, new TensorValues(values));
        }
        return Bytes(name, [items.Length, 1], items);
    }

    /// <summary>BYTES: all strings (content type <c>str</c>), else each value as JSON text (<c>pd_json</c>).</summary>
    private static ResponseOutput Bytes(string name, long[] shape, object?[] items)
    {
        if (items.All(v => v is string)) return new ResponseOutput(name, shape, TensorDatatypes.Bytes, new() { ["content_type"] = "str" },
            new TensorValues(items));
        var json = items.Select(v => v is DateTime ? (object?)Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture)
            : PyJsonWriter.Serialize(v)).ToArray();
        return new ResponseOutput(name, shape, TensorDatatypes.Bytes, new() { ["content_type"] = "pd_json" }, new TensorValues(json));
    }

    // The element type is an existing array's, so its array code is in the native server too.
    [UnconditionalSuppressMessage("AotAnalysis", "IL3050", Justification = "The array type already exists.")]
    private static Array Trim(Array a, int n)
    {
        var t = Array.CreateInstance(a.GetType().GetElementType()!, n);
        Array.Copy(a, t, n);
        return t;
    }
}
