using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace MlModels.Core.Scoring;

/// <summary>
/// What a model returned, keeping its kind and names: an n-D array, a named Series, a DataFrame, a dict of
/// results, or any other value (lists, strings, scalars). Sinks read it two ways: as MLflow's JSON
/// (<c>predictions_to_json</c>: arrays as nested lists, Series and DataFrames as records, dicts as objects) and,
/// where it is one value per input row, as a flat table for CSV and PowerShell objects.
/// </summary>
public abstract class Prediction
{
    /// <summary>The kind in MLflow's terms, for messages: ndarray, Series, DataFrame, dict, list, str, ...</summary>
    public abstract string Kind { get; }

    /// <summary>True when MLflow's JSON is a list (so batches append to one list).</summary>
    public abstract bool IsList { get; }

    /// <summary>Writes the value as MLflow writes it under "predictions".</summary>
    public abstract void WriteJson(PyJsonWriter w);

    /// <summary>Writes the list's items without the brackets (only when <see cref="IsList"/>).</summary>
    public abstract void WriteItems(PyJsonWriter w);

    /// <summary>
    /// The flat, one-row-per-input view (1-D: "prediction"; 2-D: "prediction_0"...; Series: its name; DataFrame:
    /// its columns; dict of row arrays: its keys), or null when the value is not one item per row.
    /// </summary>
    public abstract Frame? ToTable();

    /// <summary>The value as plain .NET data (nested object arrays for tensors), for non-tabular PowerShell output.</summary>
    public abstract object? ToPlain();

    /// <summary>Combines the predictions of consecutive batches of one input.</summary>
    public static Prediction Concat(IReadOnlyList<Prediction> parts)
    {
        if (parts.Count == 1) return parts[0];
        if (parts.All(p => p is DictPrediction))
        {
            var first = (DictPrediction)parts[0];
            var items = new List<KeyValuePair<string, Prediction>>();
            foreach (var (key, _) in first.Items)
                items.Add(KeyValuePair.Create(key, Concat(parts.Select(p => ((DictPrediction)p).Items.FirstOrDefault(kv => kv.Key == key).Value
                    ?? throw new InvalidOperationException($"The model returned a dict without the key '{key}' for a later batch.")).ToList())));
            return new DictPrediction(items);
        }
        if (parts.All(p => p is TensorPrediction { Tensor.Shape.Length: >= 1 }))
        {
            var tensors = parts.Select(p => ((TensorPrediction)p).Tensor).ToList();
            var kind = tensors[0].Kind;
            if (tensors.Any(t => t.Kind != kind || t.Shape.Length != tensors[0].Shape.Length
                || !t.Shape.Skip(1).SequenceEqual(tensors[0].Shape.Skip(1))))
                throw new PredictionShapeException(
                    "The model returned arrays of different types or shapes for different batches; score the input in one batch.",
                    PredictionShapeProblem.BatchesDiffer);
            var total = tensors.Sum(t => (int)t.ElementCount);
            var data = ElementKinds.NewArray(kind, total);
            int at = 0;
            foreach (var t in tensors) { Array.Copy(t.Data, 0, data, at, (int)t.ElementCount); at += (int)t.ElementCount; }
            var shape = (long[])tensors[0].Shape.Clone();
            shape[0] = tensors.Sum(t => t.Shape[0]);
            return new TensorPrediction(new TensorData(kind, shape, data));
        }
        throw new PredictionShapeException(
            $"The model returned a {parts[0].Kind} that is not one value per row, which cannot be combined across batches; " +
                $"score the input in one batch.",
            PredictionShapeProblem.BatchesDiffer);
    }
}

/// <summary>A numpy array (any rank).</summary>
public sealed class TensorPrediction(TensorData tensor) : Prediction
{
    public TensorData Tensor { get; } = tensor;
    public override string Kind => "ndarray";
    public override bool IsList => Tensor.Shape.Length >= 1;
    public override void WriteJson(PyJsonWriter w) => w.Tensor(Tensor);
    public override void WriteItems(PyJsonWriter w) => w.TensorRows(Tensor, 0, (int)Tensor.Shape[0]);

    public override Frame? ToTable()
    {
        var t = Tensor;
        if (t.Shape.Length == 0) return null;
        int rows = (int)t.Shape[0];
        if (t.Shape.Length == 1) return new Frame(["prediction"], [new ColumnData(t.Kind, Trim(t.Data, rows))], rows);
        long per = rows == 0 ? 0 : t.ElementCount / rows;
        if (t.Shape.Length == 2)
        {
            if (per == 1) return new Frame(["prediction"], [new ColumnData(t.Kind, Trim(t.Data, rows))], rows);
            var names = new List<string>();
            var cols = new List<ColumnData>();
            for (int j = 0; j < per; j++)
            {
                var col = ElementKinds.NewArray(t.Kind, rows);
                for (int r = 0; r < rows; r++) col.SetValue(t.Data.GetValue(r * per + j), r);
                names.Add($"prediction_{j}");
                cols.Add(new ColumnData(t.Kind, col));
            }
            return new Frame(names, cols, rows);
        }
        var nested = (object?[])ToPlain()!;
        return new Frame(["prediction"], [new ColumnData(ElementKind.Object, nested)], rows);
    }

    // The element type is an existing array's, so its array code is in the native server too.
    [UnconditionalSuppressMessage("AotAnalysis", "IL3050", Justification = "The array type already exists.")]
    private static Array Trim(Array a, int n)
    {
        if (a.Length == n) return a;
        var t = Array.CreateInstance(a.GetType().GetElementType()!, n);
        Array.Copy(a, t, n);
        return t;
    }

    public override object? ToPlain()
    {
        if (Tensor.Shape.Length == 0) return Tensor.Data.GetValue(0);
        long offset = 0;
        return Nested(Tensor.Shape, Tensor.Data, 0, ref offset);
    }

    private static object? Nested(long[] shape, Array data, int dim, ref long offset)
    {
        if (dim == shape.Length) return data.GetValue(offset++);
        var arr = new object?[shape[dim]];
        for (long i = 0; i < arr.Length; i++) arr[i] = Nested(shape, data, dim + 1, ref offset);
        return arr;
    }
}

/// <summary>
/// A pandas DataFrame, or a Series: one column named as the Series was; an unnamed Series is the column "0" in
/// MLflow's JSON (as pandas names it) and "prediction" in the table form.
/// </summary>
public sealed class TablePrediction(Frame frame, bool isSeries = false, bool unnamed = false) : Prediction
{
    public Frame Frame { get; } = frame;
    public bool IsSeries { get; } = isSeries;
    public bool Unnamed { get; } = unnamed;
    public override string Kind => IsSeries ? "Series" : "DataFrame";
    public override bool IsList => true;
    public override Frame? ToTable() => Unnamed ? new Frame(["prediction"], Frame.Columns, Frame.RowCount, Frame.FirstRow) : Frame;

    public override void WriteJson(PyJsonWriter w)
    {
        w.StartArray();
        WriteItems(w);
        w.EndArray();
    }

    /// <summary>Records, as <c>DataFrame.to_dict(orient="records")</c>: one object per row, columns in order.</summary>
    public override void WriteItems(PyJsonWriter w)
    {
        var f = Frame;
        for (int r = 0; r < f.RowCount; r++)
        {
            w.StartObject();
            for (int c = 0; c < f.Columns.Count; c++)
            {
                w.Key(f.Names[c]);
                var col = f.Columns[c];
                if (col.Missing != null && col.Missing[r]) w.Null();
                else w.Element(col.Values, r);
            }
            w.EndObject();
        }
    }

    public override object? ToPlain() => Enumerable.Range(0, Frame.RowCount)
        .Select(r => Frame.Names.Select((n, c) => KeyValuePair.Create(n, Frame.Columns[c].Get(r))).ToDictionary(kv => kv.Key,
            kv => kv.Value)).ToList();
}

/// <summary>A dict of results (a pyfunc returning {"mean": ndarray, ...}, or an ONNX graph's named outputs).</summary>
public sealed class DictPrediction(IReadOnlyList<KeyValuePair<string, Prediction>> items) : Prediction
{
    public IReadOnlyList<KeyValuePair<string, Prediction>> Items { get; } = items;
    public override string Kind => "dict";
    public override bool IsList => false;
    public override void WriteItems(PyJsonWriter w) => throw new InvalidOperationException("A dict is not a list.");

    public override void WriteJson(PyJsonWriter w)
    {
        w.StartObject();
        foreach (var (key, value) in Items) { w.Key(key); value.WriteJson(w); }
        w.EndObject();
    }

    /// <summary>One column per key (key_0, key_1... for 2-D arrays) when every value is an array of the same number of rows.</summary>
    public override Frame? ToTable()
    {
        if (Items.Count == 0) return null;
        var names = new List<string>();
        var cols = new List<ColumnData>();
        int? rows = null;
        foreach (var (key, value) in Items)
        {
            if (value is not TensorPrediction { Tensor.Shape.Length: 1 or 2 } tp) return null;
            var table = tp.ToTable()!;
            if (rows != null && table.RowCount != rows) return null;
            rows = table.RowCount;
            for (int c = 0; c < table.Columns.Count; c++)
            {
                names.Add(table.Columns.Count == 1 ? key : key + table.Names[c]["prediction".Length..]);
                cols.Add(table.Columns[c]);
            }
        }
        return new Frame(names, cols, rows ?? 0);
    }

    public override object? ToPlain() => Items.ToDictionary(kv => kv.Key, kv => kv.Value.ToPlain(), StringComparer.Ordinal);
}

/// <summary>Any other value, as plain data: a list (of strings, numbers, dicts...), a string, a number, null.</summary>
public sealed class ValuePrediction(object? value) : Prediction
{
    public object? Value { get; } = value;

    public override string Kind => Value switch
    {
        null => "None",
        string => "str",
        bool => "bool",
        long or int => "int",
        double or float => "float",
        System.Collections.IDictionary => "dict",
        System.Collections.IList => "list",
        _ => Value.GetType().Name,
    };

    public override bool IsList => Value is System.Collections.IList;
    public override void WriteJson(PyJsonWriter w) => w.Value(Value);

    public override void WriteItems(PyJsonWriter w)
    {
        foreach (var item in (System.Collections.IList)Value!) w.Value(item);
    }

    /// <summary>A list of scalars is one "prediction" column; anything else has no table form.</summary>
    public override Frame? ToTable()
    {
        if (Value is not System.Collections.IList list) return null;
        var values = new object?[list.Count];
        for (int i = 0; i < values.Length; i++)
        {
            var v = list[i];
            if (v is System.Collections.IEnumerable and not string) return null;
            values[i] = v;
        }
        return new Frame(["prediction"], [new ColumnData(ElementKind.Object, values)], values.Length);
    }

    public override object? ToPlain() => Value;

    public override string ToString() => Convert.ToString(Value, CultureInfo.InvariantCulture) ?? "";
}
