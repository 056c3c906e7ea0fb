using MlModels.Core.Format;

namespace MlModels.Core.Scoring;

/// <summary>Element types data is held in while scoring (numpy's names in <see cref="ElementKinds.NumpyName"/>).</summary>
public enum ElementKind { Bool, Int8, UInt8, Int16, UInt16, Int32, UInt32, Int64, UInt64, Float16, Float32, Float64, String, DateTime, Object }

public static class ElementKinds
{
    public static ElementKind FromDataType(DataType t) => t switch
    {
        DataType.Boolean => ElementKind.Bool,
        DataType.Integer => ElementKind.Int32,
        DataType.Long => ElementKind.Int64,
        DataType.Float => ElementKind.Float32,
        DataType.Double => ElementKind.Float64,
        DataType.String => ElementKind.String,
        DataType.Datetime => ElementKind.DateTime,
        _ => ElementKind.Object,
    };

    public static bool TryFromNumpy(string dtype, out ElementKind kind)
    {
        switch (dtype)
        {
            case "bool": kind = ElementKind.Bool; return true;
            case "int8": kind = ElementKind.Int8; return true;
            case "uint8": kind = ElementKind.UInt8; return true;
            case "int16": kind = ElementKind.Int16; return true;
            case "uint16": kind = ElementKind.UInt16; return true;
            case "int32": kind = ElementKind.Int32; return true;
            case "uint32": kind = ElementKind.UInt32; return true;
            case "int64": kind = ElementKind.Int64; return true;
            case "uint64": kind = ElementKind.UInt64; return true;
            case "float16": kind = ElementKind.Float16; return true;
            case "float32": kind = ElementKind.Float32; return true;
            case "float64": kind = ElementKind.Float64; return true;
            case "str" or "object" or "string" or "<U0": kind = ElementKind.String; return true;
            default: kind = ElementKind.Object; return false;
        }
    }

    public static string NumpyName(this ElementKind k) => k switch
    {
        ElementKind.Bool => "bool",
        ElementKind.String => "str",
        ElementKind.DateTime => "datetime64[ns]",
        ElementKind.Object => "object",
        _ => k.ToString().ToLowerInvariant(),
    };

    public static bool IsNumeric(this ElementKind k) => k is >= ElementKind.Int8 and <= ElementKind.Float64;
    public static bool IsInteger(this ElementKind k) => k is >= ElementKind.Int8 and <= ElementKind.UInt64;
    public static bool IsFloat(this ElementKind k) => k is ElementKind.Float16 or ElementKind.Float32 or ElementKind.Float64;

    /// <summary>
    /// The dtype numpy gives the columns together (<c>DataFrame.to_numpy()</c>): their own when they agree, float64 for
    /// numbers of several kinds, else object; null for no columns.
    /// </summary>
    public static ElementKind? Common(IEnumerable<ElementKind> kinds)
    {
        ElementKind? common = null;
        foreach (var k in kinds)
        {
            if (common == null || common == k) { common = k; continue; }
            common = common.Value.IsNumeric() && k.IsNumeric() ? ElementKind.Float64 : ElementKind.Object;
        }
        return common;
    }

    /// <summary>The dtype <c>np.array</c> gives a JSON value: bool, int64, float64, str or object; null for no numbers or strings at all.</summary>
    public static ElementKind? OfJson(System.Text.Json.JsonElement value)
    {
        ElementKind? common = null;
        void Visit(System.Text.Json.JsonElement e)
        {
            switch (e.ValueKind)
            {
                case System.Text.Json.JsonValueKind.Array:
                    foreach (var x in e.EnumerateArray()) Visit(x);
                    return;
                case System.Text.Json.JsonValueKind.Number:
                    // Python's json reads 2 as an int and 2.0 or 2e0 as a float.
                    Merge(e.TryGetInt64(out _) && e.GetRawText().IndexOfAny(['.', 'e', 'E']) < 0 ? ElementKind.Int64 : ElementKind.Float64);
                    return;
                case System.Text.Json.JsonValueKind.True or System.Text.Json.JsonValueKind.False:
                    Merge(ElementKind.Bool);
                    return;
                case System.Text.Json.JsonValueKind.String:
                    Merge(ElementKind.String);
                    return;
                default:
                    Merge(ElementKind.Object);
                    return;
            }
        }
        void Merge(ElementKind k)
        {
            if (common == null || common == k) common = k;
            else if (common.Value.IsNumeric() && k.IsNumeric()) common = ElementKind.Float64;
            else if (common == ElementKind.Bool && k.IsNumeric()) common = k; // numpy promotes bools to the numbers beside them
            else if (!(common.Value.IsNumeric() && k == ElementKind.Bool)) common = ElementKind.Object;
        }
        Visit(value);
        return common;
    }

    public static Array NewArray(ElementKind k, int length) => k switch
    {
        ElementKind.Bool => new bool[length],
        ElementKind.Int8 => new sbyte[length],
        ElementKind.UInt8 => new byte[length],
        ElementKind.Int16 => new short[length],
        ElementKind.UInt16 => new ushort[length],
        ElementKind.Int32 => new int[length],
        ElementKind.UInt32 => new uint[length],
        ElementKind.Int64 => new long[length],
        ElementKind.UInt64 => new ulong[length],
        ElementKind.Float16 => new Half[length],
        ElementKind.Float32 => new float[length],
        ElementKind.Float64 => new double[length],
        ElementKind.String => new string?[length],
        ElementKind.DateTime => new DateTime[length],
        _ => new object?[length],
    };
}

/// <summary>One column of a batch: typed values plus an optional missing-value mask.</summary>
public sealed class ColumnData(ElementKind kind, Array values, bool[]? missing = null)
{
    public ElementKind Kind { get; } = kind;
    public Array Values { get; } = values;
    public bool[]? Missing { get; set; } = missing;
    public int Length => Values.Length;
    public object? Get(int row) => Missing != null && Missing[row] ? null : Values.GetValue(row);
}

/// <summary>A batch of rows held by column.</summary>
public sealed class Frame
{
    public Frame(IReadOnlyList<string> names, IReadOnlyList<ColumnData> columns, int rowCount, long firstRow = 1)
    {
        if (names.Count != columns.Count) throw new ArgumentException("Each column needs a name.");
        Names = names;
        Columns = columns;
        RowCount = rowCount;
        FirstRow = firstRow;
    }

    public IReadOnlyList<string> Names { get; }
    public IReadOnlyList<ColumnData> Columns { get; }
    public int RowCount { get; }
    /// <summary>Number (1-based, data rows) of this batch's first row in the whole input, for error messages.</summary>
    public long FirstRow { get; }
    /// <summary>True when the columns have no names but positions (pandas' 0, 1, ...): a model sees integer column labels.</summary>
    public bool PositionalNames { get; init; }

    public Frame WithPositionalNames() => new(Names, Columns, RowCount, FirstRow) { PositionalNames = true };

    /// <summary>Batches of one input joined into one frame (the columns of the first, in order).</summary>
    public static Frame Concat(IReadOnlyList<Frame> parts)
    {
        if (parts.Count == 1) return parts[0];
        int rows = parts.Sum(p => p.RowCount);
        var cols = new List<ColumnData>();
        for (int c = 0; c < parts[0].Columns.Count; c++)
        {
            var kind = parts[0].Columns[c].Kind;
            var values = ElementKinds.NewArray(kind, rows);
            bool[]? missing = parts.Any(p => p.Columns[c].Missing != null) ? new bool[rows] : null;
            int at = 0;
            foreach (var p in parts)
            {
                var col = p.Columns[c];
                Array.Copy(col.Values, 0, values, at, p.RowCount);
                if (missing != null && col.Missing != null) Array.Copy(col.Missing, 0, missing, at, p.RowCount);
                at += p.RowCount;
            }
            cols.Add(new ColumnData(kind, values, missing));
        }
        return new Frame(parts[0].Names, cols, rows, parts[0].FirstRow) { PositionalNames = parts[0].PositionalNames };
    }

    public int IndexOf(string name)
    {
        for (int i = 0; i < Names.Count; i++) if (Names[i] == name) return i;
        return -1;
    }
}

/// <summary>A dense tensor: element kind, shape and flat row-major data.</summary>
public sealed record TensorData(ElementKind Kind, long[] Shape, Array Data)
{
    public long ElementCount
    {
        get
        {
            long n = 1;
            foreach (var d in Shape) n *= d;
            return n;
        }
    }
}
