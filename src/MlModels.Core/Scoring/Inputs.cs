using System.Text.Json;
using MlModels.Core.Format;
using nietras.SeparatedValues;

namespace MlModels.Core.Scoring;

/// <summary>Decides, from the input's column names, which columns the model takes and as what type.</summary>
public delegate IReadOnlyList<ColumnTarget> ColumnPlanner(IReadOnlyList<string> sourceNames);

/// <summary>Streams a CSV file with a header row in batches, converting each cell straight to its column's type.</summary>
public static class CsvInput
{
    public static IEnumerable<Frame> Read(string path, ColumnPlanner planner, int batchSize, CancellationToken ct = default)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Input CSV file {path} does not exist.", path);
        if (new FileInfo(path).Length == 0) throw SchemaViolationException.BadInput(
            $"Input CSV file {path} is empty; it needs a header row naming its columns.");
        return Read(() => Options.From(new StreamReader(path, StrictUtf8, detectEncodingFromByteOrderMarks: true)), path, planner, batchSize, ct);
    }

    /// <summary>CSV from a stream (a request body); <paramref name="name"/> is used in messages.</summary>
    public static IEnumerable<Frame> Read(Stream stream, string name, ColumnPlanner planner, int batchSize, CancellationToken ct = default)
    {
        if (stream.CanSeek && stream.Length == 0) throw SchemaViolationException.BadInput(
            $"{name} is empty; it needs a header row naming its columns.");
        return Read(
            () => Options.From(new StreamReader(stream, StrictUtf8, detectEncodingFromByteOrderMarks: true, leaveOpen: true)),
            name,
            planner,
            batchSize,
            ct);
    }

    // Sep's own header refuses repeated names; pandas renames them (f0, f0.1), so the header is read as a row.
    private static SepReaderOptions Options => Sep.Reader(o => o with { HasHeader = false, Unescape = true, DisableColCountCheck = true });

    // pandas fails on bytes that are not UTF-8, and so does this reader, rather than scoring replacement characters.
    private static readonly System.Text.UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private static IEnumerable<Frame> Read(Func<SepReader> open, string path, ColumnPlanner planner, int batchSize, CancellationToken ct)
    {
        using var frames = ReadCore(open, path, planner, batchSize, ct).GetEnumerator();
        while (true)
        {
            // Whatever the text does to the CSV or UTF-8 decoding layers is the input's fault: a schema error naming the file.
            try { if (!frames.MoveNext()) yield break; }
            catch (System.Text.DecoderFallbackException ex)
            {
                throw SchemaViolationException.BadInput(
                    $"{path} is not UTF-8 text (bytes {Convert.ToHexString(ex.BytesUnknown ?? [])} at byte {ex.Index:N0} of a block).",
                    null,
                    null,
                    ex);
            }
            catch (Exception ex) when (ex.Source == "Sep")
            {
                throw SchemaViolationException.BadInput($"{path} cannot be read as CSV: {ex.Message}", null, null, ex);
            }
            yield return frames.Current;
        }
    }

    private static IEnumerable<Frame> ReadCore(Func<SepReader> open, string path, ColumnPlanner planner, int batchSize, CancellationToken ct)
    {
        using var reader = open();
        List<string>? header = null;
        bool named = false;
        while (header == null && reader.MoveNext())
        {
            var first = reader.Current;
            if (first.ColCount == 1 && first.Span.Length == 0) continue; // blank lines before the header, skipped as pandas does
            var cells = new string[first.ColCount];
            for (int i = 0; i < cells.Length; i++) { cells[i] = first[i].ToString(); named |= cells[i].Length > 0; }
            header = PandasNames.FromCsvHeader(cells);
        }
        if (header == null || !named)
            throw SchemaViolationException.BadInput($"Input CSV file {path} has no header row naming its columns.");
        var plan = planner(header);
        var targets = plan.ToArray(); // an array, not the planner's list, in the per-cell loop
        long rowNumber = 0;
        bool more = true;
        while (more)
        {
            var batch = new Batch(plan, batchSize);
            more = FillBatch(reader, header.Count, targets, batch, ref rowNumber, path, ct);
            // A header without rows is a frame of no rows, as pandas reads it; the model decides what that means.
            if (batch.Count > 0 || rowNumber == 0) yield return batch.ToFrame(rowNumber - batch.Count + 1);
        }
    }

    /// <summary>Reads rows into <paramref name="batch"/> until it is full (true) or the input ends (false).</summary>
    /// <remarks>Outside the iterator, so that the per-cell loop's locals live in registers rather than in the iterator's fields.</remarks>
    private static bool FillBatch(SepReader reader, int headerCount, ColumnTarget[] targets, Batch batch, ref long rowNumber, string path,
        CancellationToken ct)
    {
        int batchSize = batch.Capacity;
        while (reader.MoveNext())
        {
            var row = reader.Current;
            if ((rowNumber & 0x3FF) == 0) ct.ThrowIfCancellationRequested();
            int colCount = row.ColCount;
            if (colCount != headerCount)
            {
                if (colCount == 1 && row.Span.Length == 0) continue; // blank lines are skipped, as pandas does
                // A short row's missing fields are missing values, as pandas reads them; a long row is an error.
                if (colCount > headerCount)
                    throw SchemaViolationException.BadInput(
                        $"{path}, line {row.LineNumberFrom:N0}: {colCount} fields, but the header has {headerCount}.",
                        null,
                        row.LineNumberFrom);
            }
            rowNumber++;
            int r = batch.Count;
            for (int c = 0; c < targets.Length; c++)
            {
                var t = targets[c];
                if (t.SourceIndex < 0 || t.SourceIndex >= colCount)
                {
                    ValueConversion.SetMissing(t, batch.Arrays[c], ref batch.Masks[c], r, batchSize, rowNumber);
                    continue;
                }
                var col = row[t.SourceIndex];
                var span = col.Span;
                if (span.Length == 0) { ValueConversion.SetMissing(t, batch.Arrays[c], ref batch.Masks[c], r, batchSize, rowNumber); continue; }
                var dest = batch.Arrays[c];
                bool ok = t.Kind switch
                {
                    // Plain decimals first (no allocation, exact), then Sep's parsers (csFastFloat), then .NET's and pandas' spellings.
                    ElementKind.Float32 => DecimalText.TryParse(span, out float f) ? Store(f, (float[])dest, r)
                        : Store(col.TryParse<float>(), (float[])dest, r) || ValueConversion.TryParseText(span, t.Kind, dest, r),
                    ElementKind.Float64 => DecimalText.TryParse(span, out double d) ? Store(d, (double[])dest, r)
                        : Store(col.TryParse<double>(), (double[])dest, r) || ValueConversion.TryParseText(span, t.Kind, dest, r),
                    _ => ValueConversion.TryParseText(span, t.Kind, dest, r),
                };
                if (!ok)
                    throw SchemaViolationException.BadInput(
                        $"{path}, line {row.LineNumberFrom:N0}, column '{t.Name}': {ValueConversion.Why(span, t.Kind)}.",
                        t.Name,
                        row.LineNumberFrom);
            }
            if (++batch.Count == batchSize) return true;
        }
        return false;
    }

    private static bool Store<T>(T value, T[] dest, int i) where T : struct
    {
        dest[i] = value;
        return true;
    }

    private static bool Store<T>(T? value, T[] dest, int i) where T : struct
    {
        if (value is not T v) return false;
        dest[i] = v;
        return true;
    }

    /// <summary>Typed arrays for one batch of rows.</summary>
    internal sealed class Batch
    {
        private readonly IReadOnlyList<ColumnTarget> _plan;
        public readonly Array[] Arrays;
        public readonly bool[]?[] Masks;
        public int Count;

        public int Capacity { get; }

        public Batch(IReadOnlyList<ColumnTarget> plan, int size)
        {
            Capacity = size;
            _plan = plan;
            Arrays = plan.Select(t => ElementKinds.NewArray(t.Kind, size)).ToArray();
            Masks = new bool[]?[plan.Count];
        }

        public Frame ToFrame(long firstRow)
        {
            var cols = new ColumnData[_plan.Count];
            for (int c = 0; c < cols.Length; c++)
            {
                var a = Arrays[c];
                bool[]? m = Masks[c];
                if (Count < a.Length)
                {
                    var trimmed = ElementKinds.NewArray(_plan[c].Kind, Count);
                    Array.Copy(a, trimmed, Count);
                    a = trimmed;
                    if (m != null) { var tm = new bool[Count]; Array.Copy(m, tm, Count); m = tm; }
                }
                cols[c] = new ColumnData(_plan[c].Kind, a, m);
            }
            return new Frame(_plan.Select(t => t.Name).ToList(), cols, Count, firstRow);
        }
    }
}

/// <summary>Rows given as name/value pairs (PowerShell objects, hashtables, DataTable rows), converted under MLflow's type rules.</summary>
public static class ObjectInput
{
    public static Frame ToFrame(IReadOnlyList<IReadOnlyList<KeyValuePair<string, object?>>> rows, ColumnPlanner planner, long firstRow = 1)
    {
        var names = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var row in rows)
            foreach (var (k, _) in row)
                if (seen.Add(k)) names.Add(k);
        var plan = planner(names);
        var batch = new CsvInput.Batch(plan, rows.Count);
        for (int r = 0; r < rows.Count; r++)
        {
            var lookup = new Dictionary<string, object?>(StringComparer.Ordinal);
            foreach (var (k, v) in rows[r]) lookup[k] = v;
            for (int c = 0; c < plan.Count; c++)
            {
                var t = plan[c];
                var value = lookup.GetValueOrDefault(t.Name);
                if (value == null || value is DBNull)
                {
                    ValueConversion.SetMissing(
                    t,
                    batch.Arrays[c],
                    ref batch.Masks[c],
                    r,
                    rows.Count,
                    firstRow + r); continue;
                }
                ValueConversion.SetFromObject(value, t.Kind, batch.Arrays[c], r, t.Name, firstRow + r);
            }
            batch.Count++;
        }
        return batch.ToFrame(firstRow);
    }
}

/// <summary>Inference params checked against the model's param schema, with defaults applied (MLflow's rules).</summary>
public static class ParamsEnforcement
{
    /// <param name="givenValue">A dictionary of params, null, or whatever else the request held (refused when the model has a param schema).</param>
    public static IReadOnlyDictionary<string, object?> Apply(ParamSchema? schema, object? givenValue, Action<string>? warn)
    {
        var result = new Dictionary<string, object?>(StringComparer.Ordinal);
        if (schema == null)
        {
            if (givenValue is IDictionary<string, object?> { Count: > 0 } ignored) warn?.Invoke(
                $"The model has no param schema; params {ColumnPlan.PyList(ignored.Keys)} are ignored.");
            else if (givenValue != null && givenValue is not IDictionary<string, object?>) warn?.Invoke(
                "The model has no param schema; the params given (not a dictionary) are ignored.");
            return result;
        }
        if (givenValue != null && givenValue is not IDictionary<string, object?>)
            throw new SchemaViolationException($"Parameters must be a dictionary. Got type " +
                $"'{(givenValue is JsonElement je ? JsonTable.PyTypeName(je).Replace("dictionary", "dict") : givenValue.GetType().Name)}'.");
        var given = givenValue as IDictionary<string, object?> ?? new Dictionary<string, object?>();
        foreach (var spec in schema.Params)
        {
            if (!given.TryGetValue(spec.Name, out var value) || value == null) { result[spec.Name] = spec.Default; continue; }
            result[spec.Name] = Check(spec, value);
        }
        var unknown = given.Keys.Where(k => schema.Params.All(p => p.Name != k)).ToList();
        if (unknown.Count > 0) warn?.Invoke($"Unrecognized params {ColumnPlan.PyList(unknown)} are ignored.");
        return result;
    }

    private static object? Check(ParamSpec spec, object value)
    {
        if (spec.Shape is { Length: > 0 })
        {
            if (value is JsonElement { ValueKind: JsonValueKind.Array } array) value = array.EnumerateArray().Select(e => (object?)e).ToList();
            if (value is not System.Collections.IEnumerable list || value is string)
                throw new SchemaViolationException($"Param '{spec.Name}' must be a list of {spec.Type.ToName()} values.", spec.Name);
            return list.Cast<object?>().Select(v => v == null ? null : CheckScalar(spec, v)).ToList();
        }
        return CheckScalar(spec, value);
    }

    private static object CheckScalar(ParamSpec spec, object value)
    {
        var kind = ElementKinds.FromDataType(spec.Type);
        var dest = ElementKinds.NewArray(kind, 1);
        try
        {
            if (value is JsonElement je)
            {
                // Params convert only where MLflow's _enforce_param_datatype does: ints widen to floats; nothing becomes text.
                bool fits = je.ValueKind switch
                {
                    JsonValueKind.Number => kind.IsNumeric(),
                    JsonValueKind.String => kind is ElementKind.String or ElementKind.DateTime,
                    JsonValueKind.True or JsonValueKind.False => kind == ElementKind.Bool,
                    _ => false,
                };
                if (!fits) throw new SchemaViolationException("", spec.Name);
                ValueConversion.SetFromJson(je, kind, dest, 0, spec.Name, 1);
            }
            else if (value is long or int && kind.IsFloat()) dest.SetValue(
                Convert.ChangeType(value, dest.GetType().GetElementType()!, System.Globalization.CultureInfo.InvariantCulture),
                0);
            else ValueConversion.SetFromObject(value, kind, dest, 0, spec.Name, 1);
        }
        catch (SchemaViolationException)
        {
            throw new SchemaViolationException($"Invalid parameters found: incompatible types for param '{spec.Name}': " +
                $"{spec.Type.ToName()} (default: {spec.Default}). Can not safely convert " +
                    $"{(value is JsonElement je ? je.GetRawText() : value)} to {spec.Type.ToName()}.", spec.Name);
        }
        return dest.GetValue(0)!;
    }
}
