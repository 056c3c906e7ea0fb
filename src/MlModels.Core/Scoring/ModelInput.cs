using System.Globalization;
using System.Text.Json;
using MlModels.Core.Format;

namespace MlModels.Core.Scoring;

/// <summary>What a model's predict receives after MLflow's parsing and schema enforcement.</summary>
public abstract record ModelInput;

/// <summary>A pandas DataFrame.</summary>
public sealed record FrameInput(Frame Frame) : ModelInput;

/// <summary>One numpy array.</summary>
public sealed record TensorInput(TensorData Tensor) : ModelInput;

/// <summary>A dict of named numpy arrays.</summary>
public sealed record TensorDictInput(IReadOnlyList<KeyValuePair<string, TensorData>> Tensors) : ModelInput;

/// <summary>
/// A request value for a model without a signature, handed over as JSON: MLflow gives such a model what numpy makes of
/// it (a list becomes an array, a dict a dict of arrays, <c>instances</c> records a dict of columns).
/// </summary>
public sealed record JsonInput(string Json, string Form) : ModelInput;

/// <summary>Tensor conversion and MLflow's tensor-spec checks.</summary>
public static class TensorConversion
{
    /// <summary>Converts a nested JSON list into a dense tensor of the given element type (np.array(x, dtype)); BAD_REQUEST when it cannot.</summary>
    public static TensorData FromJson(JsonElement e, ElementKind kind, string name)
    {
        var shape = new List<long>();
        var probe = e;
        while (probe.ValueKind == JsonValueKind.Array)
        {
            shape.Add(probe.GetArrayLength());
            if (probe.GetArrayLength() == 0) break;
            probe = probe[0];
        }
        long count = shape.Aggregate(1L, (a, b) => a * b);
        if (count > int.MaxValue) throw SchemaViolationException.BadInput($"Input '{name}' is too large.", name);
        var data = ElementKinds.NewArray(kind, (int)count);
        int index = 0;
        Fill(e, 0);
        return new TensorData(kind, shape.ToArray(), data);

        void Fill(JsonElement node, int depth)
        {
            if (depth == shape.Count)
            {
                if (node.ValueKind == JsonValueKind.Array || node.ValueKind == JsonValueKind.Object)
                    throw SchemaViolationException.BadInput($"Invalid input. Input '{name}' is not rectangular (setting an array " +
                        $"element with a sequence): a {JsonTable.PyTypeName(node)} appears where a value was expected.", name);
                if (node.ValueKind == JsonValueKind.Null)
                {
                    if (kind == ElementKind.Float32) ((float[])data)[index++] = float.NaN;
                    else if (kind == ElementKind.Float64) ((double[])data)[index++] = double.NaN;
                    else if (kind == ElementKind.Object) ((object?[])data)[index++] = null;
                    else throw SchemaViolationException.BadInput(
                        $"Invalid input. Input '{name}' has a null value, which a {kind.NumpyName()} tensor cannot hold.",
                        name);
                    return;
                }
                ValueConversion.SetFromJson(node, kind, data, index, name, index + 1);
                index++;
                return;
            }
            if (node.ValueKind != JsonValueKind.Array || node.GetArrayLength() != shape[depth])
                throw SchemaViolationException.BadInput($"Invalid input. Input '{name}' is not rectangular (the requested array has an " +
                    $"inhomogeneous shape): expected a list of {shape[depth]} at depth {depth + 1}.", name);
            foreach (var child in node.EnumerateArray()) Fill(child, depth + 1);
        }
    }

    /// <summary>
    /// Nested JSON lists cannot say the inner sizes of an empty tensor ([] is (0,) whatever was meant), so an empty
    /// input takes its missing trailing dimensions from the declared shape.
    /// </summary>
    public static TensorData RestoreEmptyShape(TensorData t, long[] declared)
    {
        if (t.ElementCount != 0 || declared.Length <= t.Shape.Length) return t;
        var shape = declared.Select((d, i) => i < t.Shape.Length ? t.Shape[i] : Math.Max(d, 0)).ToArray();
        return t with { Shape = shape };
    }

    /// <summary>MLflow's <c>_enforce_tensor_spec</c>: the shape must match, -1 matching any size (INVALID_PARAMETER_VALUE).</summary>
    public static void Check(TensorSpec? spec, string name, TensorData t)
    {
        if (spec == null) return;
        var shape = spec.Shape;
        bool ok = shape.Length == t.Shape.Length && shape.Zip(t.Shape).All(p => p.First == -1 || p.First == p.Second);
        if (!ok)
            throw new SchemaViolationException($"Failed to enforce schema of data with schema '{spec}'. Error: Shape of input " +
                $"{ShapeText(t.Shape)} does not match expected shape {ShapeText(shape)}.", name);
    }

    public static string ShapeText(long[] shape) => "(" + string.Join(", ", shape) + (shape.Length == 1 ? ",)" : ")");

    public static ElementKind KindOf(TensorSpec spec) => ElementKinds.TryFromNumpy(spec.DType, out var k) ? k : ElementKind.Object;

    /// <summary>
    /// A DataFrame against a tensor signature, as MLflow's <c>_enforce_tensor_schema</c> turns it into arrays: for an
    /// unnamed spec one (n, columns) array (one column: (n,)), for named specs one array per column of that name.
    /// </summary>
    public static ModelInput FromFrame(Frame f, Schema schema)
    {
        if (!schema.HasNames)
        {
            var spec = schema.Tensors[0];
            var kind = KindOf(spec);
            int rows = f.RowCount, cols = f.Columns.Count;
            if (cols != 1 && !(spec.Shape.Length == 2 && (spec.Shape[1] == -1 || spec.Shape[1] == cols)))
                throw new SchemaViolationException($"Failed to enforce schema of data with schema '{spec}'. Error: This model contains " +
                    $"a tensor-based model signature with no input names, which suggests a numpy array input with shape " +
                        $"{ShapeText(spec.Shape)}, but an input of shape {ShapeText([rows, cols])} was provided.");
            var data = ElementKinds.NewArray(kind, rows * cols);
            for (int c = 0; c < cols; c++)
                for (int r = 0; r < rows; r++) Store(f.Columns[c].Get(r), kind, data, r * cols + c, f.Names[c], r + 1);
            var t = new TensorData(kind, cols == 1 ? [rows] : [rows, cols], data);
            Check(spec, spec.Name ?? "input", t);
            return new TensorInput(t);
        }
        var tensors = new List<KeyValuePair<string, TensorData>>();
        var missing = schema.Tensors.Where(s => f.IndexOf(s.Name!) < 0).Select(s => s.Name!).ToList();
        if (missing.Count > 0) throw new SchemaViolationException(
            $"Failed to enforce schema. Error: Model is missing inputs {ColumnPlan.PyList(missing)}.",
            missing[0]);
        foreach (var spec in schema.Tensors)
        {
            var c = f.IndexOf(spec.Name!);
            var kind = KindOf(spec);
            var data = ElementKinds.NewArray(kind, f.RowCount);
            for (int r = 0; r < f.RowCount; r++) Store(f.Columns[c].Get(r), kind, data, r, spec.Name!, r + 1);
            var t = new TensorData(kind, [f.RowCount], data);
            Check(spec, spec.Name!, t);
            tensors.Add(KeyValuePair.Create(spec.Name!, t));
        }
        return new TensorDictInput(tensors);
    }

    private static void Store(object? value, ElementKind kind, Array dest, int i, string column, long row)
    {
        switch (value)
        {
            case null when kind == ElementKind.Float64: ((double[])dest)[i] = double.NaN; return;
            case null when kind == ElementKind.Float32: ((float[])dest)[i] = float.NaN; return;
            case null:
                throw SchemaViolationException.BadInput(
                $"Invalid input. Column '{column}', row {row:N0}: a missing value cannot be {kind.NumpyName()}.",
                column,
                row);
            case string s when kind != ElementKind.String && kind != ElementKind.Object:
                if (!ValueConversion.TryParseText(s.Trim(), kind, dest, i))
                    throw SchemaViolationException.BadInput(
                        $"Invalid input. Column '{column}', row {row:N0}: could not convert string to {kind.NumpyName()}: '{s}'.",
                        column,
                        row);
                return;
            case bool b when kind.IsNumeric():
                dest.SetValue(
                Convert.ChangeType(b ? 1 : 0, dest.GetType().GetElementType()!, CultureInfo.InvariantCulture),
                i); return;
        }
        if (kind == ElementKind.String) { ((string?[])dest)[i] = Convert.ToString(value, CultureInfo.InvariantCulture); return; }
        if (kind == ElementKind.Object) { ((object?[])dest)[i] = value; return; }
        try { dest.SetValue(Convert.ChangeType(value, dest.GetType().GetElementType()!, CultureInfo.InvariantCulture), i); }
        catch (Exception ex) when (ex is InvalidCastException or FormatException or OverflowException)
        {
            throw SchemaViolationException.BadInput(
                $"Invalid input. Column '{column}', row {row:N0}: {value} cannot be {kind.NumpyName()}.",
                column,
                row,
                ex);
        }
    }
}

/// <summary>
/// pandas' own column types for data without a signature: whole numbers are int64 (float64 when a value is missing),
/// other numbers float64, True/False bool, anything else stays an object column. CSV text is parsed the way
/// <c>read_csv</c> does; JSON values keep their JSON type ("0.5" stays a string).
/// </summary>
public static class PandasTypes
{
    public static Frame Infer(Frame f, bool fromText)
    {
        var cols = new ColumnData[f.Columns.Count];
        bool changed = false;
        for (int c = 0; c < cols.Length; c++)
        {
            var col = f.Columns[c];
            cols[c] = col.Kind == ElementKind.Object ? Narrow(col, f.RowCount, fromText) : col;
            changed |= !ReferenceEquals(cols[c], col);
        }
        return changed ? new Frame(f.Names, cols, f.RowCount, f.FirstRow) { PositionalNames = f.PositionalNames } : f;
    }

    private static ColumnData Narrow(ColumnData col, int rows, bool fromText)
    {
        bool allInt = true, allNum = true, allBool = true, anyMissing = false, anyValue = false;
        var inv = CultureInfo.InvariantCulture;
        var parsed = new object?[rows];
        for (int r = 0; r < rows; r++)
        {
            var v = col.Get(r);
            if (fromText && v is string s)
            {
                if (s.Length == 0 || s is "NaN" or "nan" or "NA" or "N/A" or "null" or "NULL" or "None") v = null;
                else if (long.TryParse(s, NumberStyles.AllowLeadingSign, inv, out var l)) v = l;
                else if (double.TryParse(s, NumberStyles.Float, inv, out var d)) v = d;
                else if (s is "True" or "TRUE" or "true") v = true;
                else if (s is "False" or "FALSE" or "false") v = false;
            }
            parsed[r] = v;
            if (v == null) { anyMissing = true; continue; }
            anyValue = true;
            bool isInt = v is long or int or short or sbyte or byte or ushort or uint;
            bool isNum = isInt || v is double or float;
            allInt &= isInt;
            allNum &= isNum;
            allBool &= v is bool;
        }
        if (!anyValue) return fromText ? new ColumnData(ElementKind.Float64, Enumerable.Repeat(double.NaN, rows).ToArray()) : col;
        if (allInt && !anyMissing) return new ColumnData(ElementKind.Int64, parsed.Select(v => Convert.ToInt64(v, inv)).ToArray());
        if (allNum) return new ColumnData(ElementKind.Float64, parsed.Select(v => v == null ? double.NaN : Convert.ToDouble(v, inv)).ToArray());
        if (allBool && !anyMissing) return new ColumnData(ElementKind.Bool, parsed.Select(v => (bool)v!).ToArray());
        // An object column keeps each value as read (text from CSV stays text where it is not a number).
        return new ColumnData(ElementKind.Object, Enumerable.Range(0, rows).Select(r => col.Get(r)).ToArray());
    }
}
