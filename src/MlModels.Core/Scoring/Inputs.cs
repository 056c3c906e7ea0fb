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
        if (new FileInfo(path).Length == 0) throw new SchemaViolationException($"Input CSV file {path} is empty; it needs a header row and at least one data row.");
        return Read(() => Options.From(new StreamReader(path, StrictUtf8, detectEncodingFromByteOrderMarks: true)), path, planner, batchSize, ct);
    }

    /// <summary>CSV from a stream (a request body); <paramref name="name"/> is used in messages.</summary>
    public static IEnumerable<Frame> Read(Stream stream, string name, ColumnPlanner planner, int batchSize, CancellationToken ct = default)
    {
        if (stream.CanSeek && stream.Length == 0) throw new SchemaViolationException($"{name} is empty; it needs a header row and at least one data row.");
        return Read(() => Options.From(new StreamReader(stream, StrictUtf8, detectEncodingFromByteOrderMarks: true, leaveOpen: true)), name, planner, batchSize, ct);
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
                throw new SchemaViolationException($"{path} is not UTF-8 text (bytes {Convert.ToHexString(ex.BytesUnknown ?? [])} at byte {ex.Index:N0} of a block).", null, null, ex);
            }
            catch (Exception ex) when (ex.Source == "Sep")
            {
                throw new SchemaViolationException($"{path} cannot be read as CSV: {ex.Message}", null, null, ex);
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
            throw new SchemaViolationException($"Input CSV file {path} has no header row naming its columns.");
        var plan = planner(header);
        long rowNumber = 0;
        var batch = new Batch(plan, batchSize);
        while (reader.MoveNext())
        {
            var row = reader.Current;
            if ((rowNumber & 0x3FF) == 0) ct.ThrowIfCancellationRequested();
            if (row.ColCount != header.Count)
            {
                if (row.ColCount == 1 && row.Span.Length == 0) continue; // blank lines are skipped, as pandas does
                throw new SchemaViolationException($"{path}, line {row.LineNumberFrom:N0}: {row.ColCount} fields, but the header has {header.Count}.", null, row.LineNumberFrom);
            }
            rowNumber++;
            int r = batch.Count;
            for (int c = 0; c < plan.Count; c++)
            {
                var t = plan[c];
                if (t.SourceIndex < 0) { ValueConversion.SetMissing(t, batch.Arrays[c], ref batch.Masks[c], r, batchSize, rowNumber); continue; }
                var span = row[t.SourceIndex].Span;
                if (span.Length == 0) { ValueConversion.SetMissing(t, batch.Arrays[c], ref batch.Masks[c], r, batchSize, rowNumber); continue; }
                bool ok = t.Kind switch
                {
                    // Sep's parsers (csFastFloat) are the fast path for the common numeric columns.
                    ElementKind.Float32 => Store(row[t.SourceIndex].TryParse<float>(), (float[])batch.Arrays[c], r) || ValueConversion.TryParseText(span, t.Kind, batch.Arrays[c], r),
                    ElementKind.Float64 => Store(row[t.SourceIndex].TryParse<double>(), (double[])batch.Arrays[c], r) || ValueConversion.TryParseText(span, t.Kind, batch.Arrays[c], r),
                    _ => ValueConversion.TryParseText(span, t.Kind, batch.Arrays[c], r),
                };
                if (!ok)
                    throw new SchemaViolationException($"{path}, line {row.LineNumberFrom:N0}, column '{t.Name}': {ValueConversion.Why(span, t.Kind)}.", t.Name, row.LineNumberFrom);
            }
            batch.Count++;
            if (batch.Count == batchSize)
            {
                yield return batch.ToFrame(rowNumber - batch.Count + 1);
                batch = new Batch(plan, batchSize);
            }
        }
        if (batch.Count > 0) yield return batch.ToFrame(rowNumber - batch.Count + 1);
        else if (rowNumber == 0) throw new SchemaViolationException($"Input CSV file {path} has a header but no data rows.");
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

        public Batch(IReadOnlyList<ColumnTarget> plan, int size)
        {
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
                if (value == null || value is DBNull) { ValueConversion.SetMissing(t, batch.Arrays[c], ref batch.Masks[c], r, rows.Count, firstRow + r); continue; }
                ValueConversion.SetFromObject(value, t.Kind, batch.Arrays[c], r, t.Name, firstRow + r);
            }
            batch.Count++;
        }
        return batch.ToFrame(firstRow);
    }
}

/// <summary>
/// An MLflow scoring request: exactly one of <c>dataframe_split</c>, <c>dataframe_records</c>, <c>instances</c>,
/// <c>inputs</c>, plus optional <c>params</c>. Holds the parsed JSON until it is converted.
/// </summary>
public sealed partial class ScoringRequest : IDisposable
{
    public static readonly string[] InputKeys = ["dataframe_split", "dataframe_records", "instances", "inputs"];

    private readonly JsonDocument _doc;

    private ScoringRequest(JsonDocument doc, string format, JsonElement data, JsonElement? parameters)
    {
        _doc = doc;
        Format = format;
        Data = data;
        Params = parameters;
    }

    public string Format { get; }
    public JsonElement Data { get; }
    public JsonElement? Params { get; }

    /// <summary>True when the request is a table (dataframe forms, or instances/inputs given as records).</summary>
    public bool IsTabular => Format is "dataframe_split" or "dataframe_records" || Data.ValueKind == JsonValueKind.Array && Data.GetArrayLength() > 0 && Data[0].ValueKind == JsonValueKind.Object;

    public static ScoringRequest Parse(string json, string source = "request")
    {
        if (LoneSurrogate(json) is string escape)
            throw new SchemaViolationException($"{source} holds the escape {escape} (half of a UTF-16 surrogate pair), which is no Unicode text.");
        JsonDocument doc;
        try { doc = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 64 }); }
        catch (JsonException ex) { throw new SchemaViolationException($"{source} is not valid JSON (line {ex.LineNumber + 1}, byte {ex.BytePositionInLine + 1}): {ex.Message}", null, null, ex); }
        return FromDocument(doc, source);
    }

    // System.Text.Json cannot read such strings back out; the check costs a scan only when the text has a \u escape.
    private static string? LoneSurrogate(string json)
    {
        if (!json.Contains("\\u", StringComparison.Ordinal)) return null;
        var m = SurrogateEscape().Match(json);
        for (; m.Success; m = m.NextMatch())
        {
            bool high = m.Groups[1].Value[0] is '8' or '9' or 'a' or 'b' or 'A' or 'B';
            var next = m.NextMatch();
            if (high && next.Success && next.Index == m.Index + 6 && next.Groups[1].Value[0] is 'c' or 'd' or 'e' or 'f' or 'C' or 'D' or 'E' or 'F') { m = next; continue; }
            // An escaped backslash before it ("\\ud800") makes it plain text, not an escape.
            int slashes = 0;
            for (int i = m.Index - 1; i >= 0 && json[i] == '\\'; i--) slashes++;
            if (slashes % 2 == 0) return m.Value;
        }
        return null;
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"\\u[dD]([0-9a-fA-F])[0-9a-fA-F]{2}")]
    private static partial System.Text.RegularExpressions.Regex SurrogateEscape();

    public static ScoringRequest ParseFile(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Input JSON file {path} does not exist.", path);
        if (new FileInfo(path).Length == 0) throw new SchemaViolationException($"Input JSON file {path} is empty.");
        return Parse(File.ReadAllText(path), path);
    }

    private static ScoringRequest FromDocument(JsonDocument doc, string source)
    {
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            doc.Dispose();
            throw new SchemaViolationException($"{source}: the request must be a JSON object with exactly one of the input fields {{'dataframe_split', 'dataframe_records', 'instances', 'inputs'}}.");
        }
        var present = root.EnumerateObject().Select(p => p.Name).ToList();
        var keys = present.Where(InputKeys.Contains).Distinct().ToList(); // a repeated key: the last value, as json.loads reads it
        if (keys.Count != 1)
        {
            doc.Dispose();
            throw new SchemaViolationException($"{source}: invalid input. The input must be a JSON dictionary with exactly one of the input fields {{'dataframe_split', 'dataframe_records', 'instances', 'inputs'}}. Received dictionary with input fields: {ColumnPlan.PyList(present)}.");
        }
        JsonElement? ps = root.TryGetProperty("params", out var p) && p.ValueKind != JsonValueKind.Null ? p : null;
        if (ps is { ValueKind: not JsonValueKind.Object })
        {
            doc.Dispose();
            throw new SchemaViolationException($"{source}: 'params' must be a JSON object.");
        }
        return new ScoringRequest(doc, keys[0], root.GetProperty(keys[0]), ps);
    }

    /// <summary>The tabular forms as one frame.</summary>
    public Frame ToFrame(ColumnPlanner planner)
    {
        List<string> names;
        List<JsonElement[]> rows;
        if (Format == "dataframe_split")
        {
            if (Data.ValueKind != JsonValueKind.Object || !Data.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array)
                throw new SchemaViolationException("dataframe_split must be an object with 'columns' and 'data' (a list of rows).");
            rows = data.EnumerateArray().Select((r, i) => r.ValueKind == JsonValueKind.Array ? r.EnumerateArray().ToArray()
                : throw new SchemaViolationException($"dataframe_split: data row {i + 1} is not a list.", null, i + 1)).ToList();
            names = Data.TryGetProperty("columns", out var cols) && cols.ValueKind == JsonValueKind.Array
                ? cols.EnumerateArray().Select(c => c.ValueKind == JsonValueKind.String ? c.GetString()! : c.GetRawText()).ToList()
                : Enumerable.Range(0, rows.FirstOrDefault()?.Length ?? 0).Select(i => i.ToString()).ToList();
            for (int i = 0; i < rows.Count; i++)
                if (rows[i].Length != names.Count)
                    throw new SchemaViolationException($"dataframe_split: data row {i + 1} has {rows[i].Length} values for {names.Count} columns.", null, i + 1);
        }
        else
        {
            if (Data.ValueKind != JsonValueKind.Array)
                throw new SchemaViolationException($"{Format} must be a list of records (objects mapping column names to values).");
            names = [];
            var seen = new HashSet<string>(StringComparer.Ordinal);
            var records = Data.EnumerateArray().ToList();
            for (int i = 0; i < records.Count; i++)
            {
                if (records[i].ValueKind != JsonValueKind.Object) throw new SchemaViolationException($"{Format}: record {i + 1} is not an object.", null, i + 1);
                foreach (var prop in records[i].EnumerateObject()) if (seen.Add(prop.Name)) names.Add(prop.Name);
            }
            rows = records.Select(rec => names.Select(n => rec.TryGetProperty(n, out var v) ? v : default).ToArray()).ToList();
        }
        if (rows.Count == 0) throw new SchemaViolationException($"{Format} holds no rows.");
        var plan = planner(names);
        var batch = new CsvInput.Batch(plan, rows.Count);
        for (int r = 0; r < rows.Count; r++)
        {
            for (int c = 0; c < plan.Count; c++)
            {
                var t = plan[c];
                var e = t.SourceIndex >= 0 ? rows[r][t.SourceIndex] : default;
                if (e.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null) { ValueConversion.SetMissing(t, batch.Arrays[c], ref batch.Masks[c], r, rows.Count, r + 1); continue; }
                ValueConversion.SetFromJson(e, t.Kind, batch.Arrays[c], r, t.Name, r + 1);
            }
            batch.Count++;
        }
        return batch.ToFrame(1);
    }

    /// <summary>The tensor forms: a single unnamed tensor (a nested list) or named tensors (an object of nested lists).</summary>
    public IReadOnlyList<KeyValuePair<string?, JsonElement>> TensorElements()
    {
        if (Data.ValueKind == JsonValueKind.Object)
            return Data.EnumerateObject().Select(p => KeyValuePair.Create((string?)p.Name, p.Value)).ToList();
        return [KeyValuePair.Create((string?)null, Data)];
    }

    /// <summary>Converts a nested JSON list into a dense tensor of the given element type, checking it is rectangular.</summary>
    public static TensorData ToTensor(JsonElement e, ElementKind kind, string name)
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
        if (count > int.MaxValue) throw new SchemaViolationException($"Input '{name}' is too large.", name);
        var data = ElementKinds.NewArray(kind, (int)count);
        int index = 0;
        Fill(e, 0);
        return new TensorData(kind, shape.ToArray(), data);

        void Fill(JsonElement node, int depth)
        {
            if (depth == shape.Count)
            {
                if (node.ValueKind == JsonValueKind.Array) throw new SchemaViolationException($"Input '{name}' is not rectangular: a list appears where a value was expected.", name);
                if (node.ValueKind == JsonValueKind.Null)
                {
                    if (kind == ElementKind.Float32) ((float[])data)[index++] = float.NaN;
                    else if (kind == ElementKind.Float64) ((double[])data)[index++] = double.NaN;
                    else throw new SchemaViolationException($"Input '{name}' has a null value, which a {kind.NumpyName()} tensor cannot hold.", name);
                    return;
                }
                ValueConversion.SetFromJson(node, kind, data, index, name, index + 1);
                index++;
                return;
            }
            if (node.ValueKind != JsonValueKind.Array || node.GetArrayLength() != shape[depth])
                throw new SchemaViolationException($"Input '{name}' is not rectangular: expected a list of {shape[depth]} at depth {depth + 1}.", name);
            foreach (var child in node.EnumerateArray()) Fill(child, depth + 1);
        }
    }

    public void Dispose() => _doc.Dispose();
}

/// <summary>Inference params checked against the model's param schema, with defaults applied (MLflow's rules).</summary>
public static class ParamsEnforcement
{
    public static IReadOnlyDictionary<string, object?> Apply(ParamSchema? schema, IDictionary<string, object?>? given, Action<string>? warn)
    {
        var result = new Dictionary<string, object?>(StringComparer.Ordinal);
        given ??= new Dictionary<string, object?>();
        if (schema == null)
        {
            if (given.Count > 0) warn?.Invoke($"The model has no param schema; params {ColumnPlan.PyList(given.Keys)} are ignored.");
            return result;
        }
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
            if (value is JsonElement je) ValueConversion.SetFromJson(je, kind, dest, 0, spec.Name, 1);
            else if (value is long or int && kind.IsFloat()) dest.SetValue(Convert.ChangeType(value, dest.GetType().GetElementType()!, System.Globalization.CultureInfo.InvariantCulture), 0);
            else ValueConversion.SetFromObject(value, kind, dest, 0, spec.Name, 1);
        }
        catch (SchemaViolationException)
        {
            throw new SchemaViolationException($"Param '{spec.Name}' must be {spec.Type.ToName()}, but got {value} ({value.GetType().Name}).", spec.Name);
        }
        return dest.GetValue(0)!;
    }
}
