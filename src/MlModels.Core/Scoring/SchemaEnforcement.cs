using System.Globalization;
using System.Text.Json;
using MlModels.Core.Format;

namespace MlModels.Core.Scoring;

/// <summary>MLflow's error codes for scoring requests (the <c>error_code</c> of its error bodies).</summary>
public static class ScoringErrorCodes
{
    /// <summary>The input could not be read: malformed JSON or CSV, a bad request shape, a value that does not convert.</summary>
    public const string BadRequest = "BAD_REQUEST";
    /// <summary>The input was read but breaks the model's schema or param schema (missing column, tensor shape, params).</summary>
    public const string InvalidParameterValue = "INVALID_PARAMETER_VALUE";
}

/// <summary>
/// Input that cannot be scored, with the column and row at fault and MLflow's error code: BAD_REQUEST when it cannot
/// be read, INVALID_PARAMETER_VALUE when it breaks the schema.
/// </summary>
public sealed class SchemaViolationException(
    string message,
    string? column = null,
    long? row = null,
    Exception? inner = null,
    string errorCode = ScoringErrorCodes.InvalidParameterValue)
    : Exception(message, inner)
{
    public string? Column { get; } = column;
    /// <summary>1-based data row (for CSV: the line number in the file).</summary>
    public long? Row { get; } = row;
    public string ErrorCode { get; } = errorCode;

    public static SchemaViolationException BadInput(string message, string? column = null, long? row = null, Exception? inner = null) =>
        new(message, column, row, inner, ScoringErrorCodes.BadRequest);
}

/// <summary>The model itself failed while predicting (it raised, or its runtime refused the data): MLflow's 400 BAD_REQUEST.</summary>
public sealed class ModelPredictionException(string message, Exception? inner = null, string? traceback = null) : Exception(message, inner)
{
    public string ErrorCode { get; } = ScoringErrorCodes.BadRequest;
    /// <summary>The Python traceback, when a Python model raised.</summary>
    public string? Traceback { get; } = traceback;
}

/// <summary>Where one model input column comes from in the caller's data, and what type it must become.</summary>
public sealed record ColumnTarget(string Name, ElementKind Kind, int SourceIndex, bool Required, DataType? SignatureType);

/// <summary>
/// MLflow's column rules (<c>_enforce_schema</c>): required columns must be present, optional ones may be absent,
/// extra columns are ignored with a warning, and columns are taken in signature order.
/// </summary>
public static class ColumnPlan
{
    public static IReadOnlyList<ColumnTarget> Create(
        Schema? schema,
        IReadOnlyList<string> sourceNames,
        Func<int, ElementKind> kindWithoutSchema,
        Action<string>? warn)
    {
        if (schema == null || schema.IsTensorBased || schema.Columns.Count == 0)
            return sourceNames.Select((n, i) => new ColumnTarget(n, kindWithoutSchema(i), i, true, null)).ToList();

        if (!schema.HasNames)
        {
            // Unnamed columns are matched by position.
            if (sourceNames.Count < schema.Columns.Count)
                throw new SchemaViolationException($"The model expects {schema.Columns.Count} input columns but the input has {sourceNames.Count}.");
            return schema.Columns.Select((c, i) => new ColumnTarget(sourceNames[i], ElementKinds.FromDataType(c.Type), i, c.Required, c.Type))
                .ToList();
        }

        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < sourceNames.Count; i++) index.TryAdd(sourceNames[i], i);
        var targets = new List<ColumnTarget>();
        var missing = new List<string>();
        foreach (var c in schema.Columns)
        {
            var src = index.GetValueOrDefault(c.Name!, -1);
            if (src < 0 && c.Required) missing.Add(c.Name!);
            targets.Add(new ColumnTarget(c.Name!, ElementKinds.FromDataType(c.Type), src, c.Required, c.Type));
        }
        var known = new HashSet<string>(schema.Columns.Select(c => c.Name!), StringComparer.Ordinal);
        var extra = sourceNames.Where(n => !known.Contains(n)).ToList();
        if (missing.Count > 0)
            throw new SchemaViolationException(
                $"Model is missing inputs {PyList(missing)}." + (extra.Count > 0 ? $" Note that there were extra inputs: {PyList(extra)}." : ""),
                missing[0]);
        if (extra.Count > 0)
            warn?.Invoke(
                $"Found extra inputs in the model input that are not defined in the model signature: {PyList(extra)}. These inputs will be ignored.");
        return targets;
    }

    public static string PyList(IEnumerable<string> names) => "[" + string.Join(", ", names.Select(n => "'" + n + "'")) + "]";
}

/// <summary>
/// Value conversion under MLflow's rules. Text (CSV cells) and JSON numbers are literals with no width of their own,
/// so they parse straight into the target type, as MLflow's server does when it reads a request with a schema;
/// typed .NET values follow <c>_enforce_mlflow_datatype</c>: widening only (int→long, float→double, int32→double),
/// never float→int or double→float.
/// </summary>
public static class ValueConversion
{
    public static bool TryParseText(ReadOnlySpan<char> text, ElementKind kind, Array dest, int i)
    {
        var inv = CultureInfo.InvariantCulture;
        switch (kind)
        {
            case ElementKind.Float32:
                if (float.TryParse(text, NumberStyles.Float, inv, out var f)) { ((float[])dest)[i] = f; return true; }
                return TryNonFinite(text, out var nf) && Set((float[])dest, i, (float)nf);
            case ElementKind.Float64:
                if (double.TryParse(text, NumberStyles.Float, inv, out var d)) { ((double[])dest)[i] = d; return true; }
                return TryNonFinite(text, out var nd) && Set((double[])dest, i, nd);
            case ElementKind.Int64:
                if (long.TryParse(text, NumberStyles.AllowLeadingSign, inv, out var l)) { ((long[])dest)[i] = l; return true; }
                return false;
            case ElementKind.Int32:
                if (int.TryParse(text, NumberStyles.AllowLeadingSign, inv, out var n)) { ((int[])dest)[i] = n; return true; }
                return false;
            case ElementKind.Bool:
                if (text is "True" or "true" or "TRUE" or "1") { ((bool[])dest)[i] = true; return true; }
                if (text is "False" or "false" or "FALSE" or "0") { ((bool[])dest)[i] = false; return true; }
                return false;
            case ElementKind.String:
                ((string?[])dest)[i] = text.ToString();
                return true;
            case ElementKind.DateTime:
                if (DateTime.TryParse(text, inv, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var dt))
                {
                    ((DateTime[])dest)[
                    i] = dt; return true;
                }
                return false;
            case ElementKind.Object:
                ((object?[])dest)[i] = text.ToString();
                return true;
            default:
                if (!double.TryParse(text, NumberStyles.Float, inv, out var any)) return false;
                return TryStoreNumber(any, kind, dest, i, integral: !text.Contains('.') && !text.Contains('e') && !text.Contains('E'));
        }
    }

    private static bool TryNonFinite(ReadOnlySpan<char> text, out double v)
    {
        v = text switch
        {
            "nan" or "NaN" or "NAN" => double.NaN,
            "inf" or "Infinity" or "+inf" => double.PositiveInfinity,
            "-inf" or "-Infinity" => double.NegativeInfinity,
            _ => 0,
        };
        return v != 0;
    }

    private static bool Set<T>(T[] a, int i, T v) { a[i] = v; return true; }

    /// <summary>Explains why text did not convert (used only on the error path).</summary>
    public static string Why(ReadOnlySpan<char> text, ElementKind kind)
    {
        if (kind.IsInteger() && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
            return $"'{text}' is not a whole number; MLflow does not convert float to {kind.NumpyName()}";
        return $"cannot convert '{Truncate(text.ToString())}' to {kind.NumpyName()}";
    }

    private static string Truncate(string s) => s.Length > 40 ? s[..40] + "…" : s;

    /// <summary>
    /// Stores a JSON value the way MLflow's request parsing casts it (pandas <c>astype</c> / <c>np.array(..., dtype)</c>):
    /// numbers are literals (whole numbers fit any numeric type, fractions only floats), booleans are 1/0 in a float
    /// column, numeric strings parse into a float column, numbers and booleans become text in a string column.
    /// A value that does not convert is a BAD_REQUEST, as in MLflow.
    /// </summary>
    public static void SetFromJson(JsonElement e, ElementKind kind, Array dest, int i, string column, long row)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Number:
                if (kind == ElementKind.Object) { ((object?[])dest)[i] = e.TryGetInt64(out var ol) ? ol : e.GetDouble(); return; }
                if (kind == ElementKind.String) { ((string?[])dest)[i] = e.GetRawText(); return; }
                if (!kind.IsNumeric()) throw BadValue(column, row, $"a number cannot be a {kind.NumpyName()} value");
                if (!e.TryGetDouble(out var asDouble) || !double.IsFinite(asDouble))
                    throw BadValue(column, row, $"the number {Truncate(e.GetRawText())} is too large to convert to {kind.NumpyName()}");
                bool integral = e.TryGetInt64(out _) || (e.TryGetDouble(out var dv) && Math.Floor(dv) == dv && !double.IsInfinity(dv));
                if (!integral && kind.IsInteger())
                    throw BadValue(column, row, $"{e.GetRawText()} is not a whole number; MLflow does not convert float to {kind.NumpyName()}");
                if (kind.IsInteger() && e.TryGetInt64(out var il))
                {
                    if (!TryStoreInteger(il, kind, dest, i)) throw BadValue(
                    column,
                    row,
                    $"{il} does not fit in {kind.NumpyName()}"); return;
                }
                if (!TryStoreNumber(e
                    .GetDouble(), kind, dest, i, integral)) throw BadValue(column, row, $"{e.GetRawText()} does not fit in {kind.NumpyName()}");
                return;
            case JsonValueKind.True or JsonValueKind.False:
                if (kind == ElementKind.Bool) { ((bool[])dest)[i] = e.GetBoolean(); return; }
                if (kind == ElementKind.Object) { ((object?[])dest)[i] = e.GetBoolean(); return; }
                if (kind == ElementKind.String) { ((string?[])dest)[i] = e.GetBoolean() ? "True" : "False"; return; }
                if (kind.IsNumeric()) { TryStoreNumber(e.GetBoolean() ? 1 : 0, kind, dest, i, true); return; }
                throw BadValue(column, row, $"a boolean cannot be a {kind.NumpyName()} value");
            case JsonValueKind.String:
                if (kind == ElementKind.String) { ((string?[])dest)[i] = e.GetString(); return; }
                if (kind == ElementKind.Object) { ((object?[])dest)[i] = e.GetString(); return; }
                var text = e.GetString() ?? "";
                if (kind == ElementKind.DateTime)
                {
                    if (!TryParseText(text, kind, dest, i)) throw BadValue(column, row, $"'{text}' is not a date and time");
                    return;
                }
                if (kind.IsNumeric() && TryParseText(text.Trim(), kind, dest, i)) return;
                throw BadValue(column, row, $"could not convert string to {kind.NumpyName()}: '{Truncate(text)}'");
            default:
                if (kind == ElementKind.Object)
                {
                    ((object?[])dest)[i] = PyJson.ToPlain(
                    System.Text.Json.Nodes.JsonNode.Parse(e.GetRawText())); return;
                }
                throw BadValue(column, row, $"a JSON {e.ValueKind.ToString().ToLowerInvariant()} cannot be a {kind.NumpyName()} value");
        }
    }

    private static SchemaViolationException BadValue(string column, long row, string what) =>
        SchemaViolationException.BadInput(
            $"Invalid input. Data is not compatible with model signature. Failed to convert column {column} (row {row:N0}): {what}.",
            column,
            row);

    /// <summary>Stores a typed .NET value under MLflow's widening-only rules.</summary>
    public static void SetFromObject(object value, ElementKind kind, Array dest, int i, string column, long row)
    {
        var source = KindOf(value);
        switch (kind)
        {
            case ElementKind.Object: ((object?[])dest)[i] = value; return;
            case ElementKind.String:
                if (value is string or char) { ((string?[])dest)[i] = value.ToString(); return; }
                break;
            case ElementKind.Bool:
                if (value is bool b) { ((bool[])dest)[i] = b; return; }
                break;
            case ElementKind.DateTime:
                if (value is DateTime dt) { ((DateTime[])dest)[i] = dt; return; }
                if (value is DateTimeOffset dto) { ((DateTime[])dest)[i] = dto.UtcDateTime; return; }
                if (value is string s) { if (TryParseText(s, kind, dest, i)) return; throw Violation(column, row, $"'{s}' is not a date and time"); }
                break;
            default:
                if (source is ElementKind k && IsSafeCast(k, kind))
                {
                    if (kind.IsInteger()) TryStoreInteger(Convert.ToInt64(value, CultureInfo.InvariantCulture), kind, dest, i);
                    else TryStoreNumber(Convert.ToDouble(value, CultureInfo.InvariantCulture), kind, dest, i, false);
                    return;
                }
                if (value is decimal m && kind.IsFloat()) { TryStoreNumber((double)m, kind, dest, i, false); return; }
                break;
        }
        throw Violation(column, row, $"Incompatible input types for column {column}. Can not safely convert " +
            $"{(source?.NumpyName() ?? value.GetType().Name)} to {kind.NumpyName()}.");
    }

    /// <summary>numpy kind/itemsize rules of MLflow's <c>_enforce_mlflow_datatype</c>.</summary>
    public static bool IsSafeCast(ElementKind from, ElementKind to)
    {
        if (from == to) return true;
        int Size(ElementKind k) => k switch
        {
            ElementKind.Int8 or ElementKind.UInt8 or ElementKind.Bool => 1,
            ElementKind.Int16 or ElementKind.UInt16 or ElementKind.Float16 => 2,
            ElementKind.Int32 or ElementKind.UInt32 or ElementKind.Float32 => 4,
            _ => 8,
        };
        bool Signed(ElementKind k) => k is ElementKind.Int8 or ElementKind.Int16 or ElementKind.Int32 or ElementKind.Int64;
        bool Unsigned(ElementKind k) => k is ElementKind.UInt8 or ElementKind.UInt16 or ElementKind.UInt32 or ElementKind.UInt64;
        if (from.IsFloat() && to.IsFloat()) return Size(from) <= Size(to);
        if (Signed(from) && Signed(to)) return Size(from) <= Size(to);
        if (Unsigned(from) && Unsigned(to)) return Size(from) <= Size(to);
        if (Unsigned(from) && Signed(to)) return Size(from) < Size(to);
        if (from.IsInteger() && to == ElementKind.Float64) return Size(from) <= 6;
        return false;
    }

    public static ElementKind? KindOf(object value) => value switch
    {
        bool => ElementKind.Bool,
        sbyte => ElementKind.Int8,
        byte => ElementKind.UInt8,
        short => ElementKind.Int16,
        ushort => ElementKind.UInt16,
        int => ElementKind.Int32,
        uint => ElementKind.UInt32,
        long => ElementKind.Int64,
        ulong => ElementKind.UInt64,
        Half => ElementKind.Float16,
        float => ElementKind.Float32,
        double => ElementKind.Float64,
        string => ElementKind.String,
        DateTime => ElementKind.DateTime,
        _ => null,
    };

    /// <summary>An integer into a typed array, when the element type holds it (no silent wrap).</summary>
    internal static bool TryStoreInteger(long v, ElementKind kind, Array dest, int i)
    {
        switch (kind)
        {
            case ElementKind.Int8 when v is >= sbyte.MinValue and <= sbyte.MaxValue: ((sbyte[])dest)[i] = (sbyte)v; return true;
            case ElementKind.UInt8 when v is >= 0 and <= byte.MaxValue: ((byte[])dest)[i] = (byte)v; return true;
            case ElementKind.Int16 when v is >= short.MinValue and <= short.MaxValue: ((short[])dest)[i] = (short)v; return true;
            case ElementKind.UInt16 when v is >= 0 and <= ushort.MaxValue: ((ushort[])dest)[i] = (ushort)v; return true;
            case ElementKind.Int32 when v is >= int.MinValue and <= int.MaxValue: ((int[])dest)[i] = (int)v; return true;
            case ElementKind.UInt32 when v is >= 0 and <= uint.MaxValue: ((uint[])dest)[i] = (uint)v; return true;
            case ElementKind.Int64: ((long[])dest)[i] = v; return true;
            case ElementKind.UInt64 when v >= 0: ((ulong[])dest)[i] = (ulong)v; return true;
            case ElementKind.Float16 or ElementKind.Float32 or ElementKind.Float64: return TryStoreNumber(v, kind, dest, i, true);
            default: return false;
        }
    }

    private static bool TryStoreNumber(double v, ElementKind kind, Array dest, int i, bool integral)
    {
        switch (kind)
        {
            case ElementKind.Float16: ((Half[])dest)[i] = (Half)v; return true;
            case ElementKind.Float32: ((float[])dest)[i] = (float)v; return true;
            case ElementKind.Float64: ((double[])dest)[i] = v; return true;
            default:
                if (!integral || Math.Floor(v) != v || double.IsInfinity(v) || Math.Abs(v) > 9.2e18) return false;
                return TryStoreInteger((long)v, kind, dest, i);
        }
    }

    /// <summary>Missing value: NaN for floats; otherwise allowed only in optional columns.</summary>
    public static void SetMissing(ColumnTarget target, Array dest, ref bool[]? mask, int i, int length, long row)
    {
        switch (target.Kind)
        {
            case ElementKind.Float32: ((float[])dest)[i] = float.NaN; return;
            case ElementKind.Float64: ((double[])dest)[i] = double.NaN; return;
        }
        if (target.Required && target.SignatureType != null)
            throw Violation(target.Name, row, $"a required {target.Kind.NumpyName()} column has a missing value");
        mask ??= new bool[length];
        mask[i] = true;
    }

    public static SchemaViolationException Violation(string column, long row, string what) =>
        new($"Column '{column}', row {row:N0}: {what}.", column, row);
}
