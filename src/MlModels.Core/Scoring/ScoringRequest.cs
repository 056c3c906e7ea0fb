using System.Text.Json;
using MlModels.Core.Format;

namespace MlModels.Core.Scoring;

/// <summary>
/// An MLflow scoring request: exactly one of <c>dataframe_split</c>, <c>dataframe_records</c>, <c>instances</c>,
/// <c>inputs</c>, plus optional <c>params</c>; or MLflow's unwrapped LLM form (an object with <c>messages</c>,
/// <c>prompt</c> or <c>input</c>), which goes to the model whole and is answered without the "predictions" wrapper.
/// Holds the parsed JSON until it is converted.
/// </summary>
public sealed partial class ScoringRequest : IDisposable
{
    public static readonly string[] InputKeys = ["dataframe_split", "dataframe_records", "instances", "inputs"];
    public static readonly string[] UnifiedKeys = ["messages", "prompt", "input"];
    public const string UnifiedFormat = "unified";

    private const string RequiredFormat = "Invalid input. The input must be a JSON dictionary with exactly one of the input fields " +
        "{'dataframe_split', 'dataframe_records', 'instances', 'inputs'}";

    private readonly JsonDocument _doc;

    private ScoringRequest(JsonDocument doc, string format, JsonElement data, JsonElement? parameters, string source)
    {
        _doc = doc;
        Format = format;
        Data = data;
        Params = parameters;
        Source = source;
    }

    /// <summary>dataframe_split, dataframe_records, instances, inputs, or <see cref="UnifiedFormat"/>.</summary>
    public string Format { get; }
    /// <summary>The value under the input key (for the unified form: the whole object).</summary>
    public JsonElement Data { get; }
    /// <summary>The <c>params</c> value as sent (any JSON kind), or null when absent or JSON null.</summary>
    public JsonElement? Params { get; }
    /// <summary>Where the request came from, for messages.</summary>
    public string Source { get; }
    public bool IsUnified => Format == UnifiedFormat;

    public static ScoringRequest Parse(string json, string source = "request") => Parse(System.Text.Encoding.UTF8.GetBytes(json), source);

    public static ScoringRequest Parse(ReadOnlyMemory<byte> utf8, string source = "request")
    {
        if (utf8.Span.IndexOf("\\u"u8) >= 0 && LoneSurrogate(System.Text.Encoding.UTF8.GetString(utf8.Span)) is string escape)
            throw SchemaViolationException.BadInput(
                $"Invalid input. {source} holds the escape {escape} (half of a UTF-16 surrogate pair), which is no Unicode text.");
        JsonDocument doc;
        try { doc = JsonDocument.Parse(utf8, new JsonDocumentOptions { MaxDepth = 64 }); }
        catch (JsonException ex)
        {
            throw SchemaViolationException.BadInput($"Invalid input. Ensure that input is a valid JSON formatted string. {source} is " +
                $"not valid JSON (line {ex.LineNumber + 1}, byte {ex.BytePositionInLine + 1}): {ex.Message}", null, null, ex);
        }
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
            if (high && next.Success && next.Index == m.Index + 6
                && next.Groups[1].Value[0] is 'c' or 'd' or 'e' or 'f' or 'C' or 'D' or 'E' or 'F') { m = next; continue; }
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
        return Parse(File.ReadAllBytes(path), path);
    }

    private static ScoringRequest FromDocument(JsonDocument doc, string source)
    {
        var root = doc.RootElement;
        try
        {
            if (root.ValueKind != JsonValueKind.Object)
                throw SchemaViolationException.BadInput($"{RequiredFormat}. {source} holds a JSON " +
                    $"{(root.ValueKind == JsonValueKind.Array ? "list" : root.ValueKind.ToString().ToLowerInvariant())}.");
            JsonElement? ps = root.TryGetProperty("params", out var p) && p.ValueKind != JsonValueKind.Null ? p : null;
            if (UnifiedKeys.Any(k => root.TryGetProperty(k, out _)))
                return new ScoringRequest(doc, UnifiedFormat, root, null, source);
            var present = root.EnumerateObject().Select(x => x.Name).Distinct().ToList(); // a repeated key: its last value, as json.loads
            var keys = present.Where(InputKeys.Contains).ToList();
            if (keys.Count != 1)
                throw SchemaViolationException.BadInput($"{RequiredFormat}. Received dictionary with input fields: {ColumnPlan.PyList(present)}.");
            return new ScoringRequest(doc, keys[0], root.GetProperty(keys[0]), ps, source);
        }
        catch
        {
            doc.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The request's params as given: a dictionary of JSON values, the non-dictionary value itself (which the param
    /// schema then refuses), or null. In the unified form, top-level keys that the param schema names are params.
    /// </summary>
    public object? ParamsFor(ParamSchema? schema)
    {
        if (IsUnified)
        {
            var names = schema?.Params.Select(s => s.Name).ToHashSet(StringComparer.Ordinal) ?? [];
            var found = new Dictionary<string, object?>(StringComparer.Ordinal);
            foreach (var x in Data.EnumerateObject().Where(x => names.Contains(x.Name))) found[x.Name] = x.Value.Clone();
            return found.Count > 0 ? found : null;
        }
        if (Params is not JsonElement p) return null;
        if (p.ValueKind != JsonValueKind.Object) return p.Clone();
        // A repeated key takes its last value, as json.loads does.
        var result = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var x in p.EnumerateObject()) result[x.Name] = x.Value.Clone();
        return result;
    }

    /// <summary>The unified form's data: every top-level key the param schema does not name.</summary>
    public IReadOnlyList<KeyValuePair<string, JsonElement>> UnifiedData(ParamSchema? schema)
    {
        var names = schema?.Params.Select(s => s.Name).ToHashSet(StringComparer.Ordinal) ?? [];
        return Data.EnumerateObject().Where(x => !names.Contains(x.Name)).Select(x => KeyValuePair.Create(x.Name, x.Value)).ToList();
    }

    /// <summary>JSON text of the value that goes to a model that has no signature (MLflow turns it into numpy arrays).</summary>
    public string RawData(ParamSchema? schema)
    {
        if (!IsUnified) return Data.GetRawText();
        return PyJsonWriter.Serialize(
            UnifiedData(schema).ToDictionary(kv => kv.Key, kv => PyJson.ToPlain(System.Text.Json.Nodes.JsonNode.Parse(kv.Value.GetRawText()))));
    }

    public void Dispose() => _doc.Dispose();
}

/// <summary>Rows of JSON values with column names, before conversion (a pandas DataFrame as MLflow builds it from a request).</summary>
public sealed record JsonTable(IReadOnlyList<string> Names, IReadOnlyList<JsonElement[]> Rows, bool PositionalNames)
{
    /// <summary><c>dataframe_split</c>: an object with <c>data</c> and optionally <c>columns</c> and <c>index</c>.</summary>
    public static JsonTable FromSplit(JsonElement split)
    {
        if (split.ValueKind != JsonValueKind.Object)
            throw SchemaViolationException.BadInput($"Invalid input. Dataframe split format must be a dictionary. Got {PyTypeName(split)}.");
        var keys = split.EnumerateObject().Select(p => p.Name).ToList();
        if (!keys.Contains("data") || keys.Any(k => k is not ("columns" or "data" or "index")))
            throw SchemaViolationException.BadInput($"Invalid input. Dataframe split format must have 'data' field and optionally " +
                $"'columns' and 'index' fields. Got {ColumnPlan.PyList(keys)}.");
        var data = split.GetProperty("data");
        if (data.ValueKind != JsonValueKind.Array)
            throw SchemaViolationException.BadInput(
                "Provided dataframe_split field is not a valid dataframe representation in 'split' format: 'data' must be a list of rows.");
        var rows = new List<JsonElement[]>();
        int i = 0;
        foreach (var r in data.EnumerateArray())
        {
            i++;
            rows.Add(r.ValueKind == JsonValueKind.Array ? r.EnumerateArray().ToArray()
                : r.ValueKind == JsonValueKind.Object ? throw SchemaViolationException.BadInput(
                    $"Provided dataframe_split field is not a valid dataframe representation: data row {i} is an object.",
                    null,
                    i)
                : [r]);
        }
        bool positional = !(split.TryGetProperty("columns", out var cols) && cols.ValueKind == JsonValueKind.Array);
        var names = !positional
            ? cols.EnumerateArray().Select(c => c.ValueKind == JsonValueKind.String ? c.GetString()! : c.GetRawText()).ToList()
            : Enumerable.Range(0, rows.Count == 0 ? 0 : rows.Max(r => r.Length))
                .Select(n => n.ToString(System.Globalization.CultureInfo.InvariantCulture))
                .ToList();
        for (int r = 0; r < rows.Count; r++)
            if (rows[r].Length != names.Count)
                throw SchemaViolationException.BadInput($"Provided dataframe_split field is not a valid dataframe representation in " +
                    $"'split' format: data row {r + 1} has {rows[r].Length} values for {names.Count} columns.", null, r + 1);
        return new JsonTable(names, rows, positional);
    }

    /// <summary><c>dataframe_records</c> (and <c>inputs</c> as records): a list of objects mapping column names to values.</summary>
    public static JsonTable FromRecords(JsonElement records, string form)
    {
        if (records.ValueKind != JsonValueKind.Array)
            throw SchemaViolationException.BadInput($"Invalid input. Dataframe records format must be a list of records. Got {PyTypeName(records)}.");
        var items = records.EnumerateArray().ToList();
        if (items.Count > 0 && items.All(x => x.ValueKind != JsonValueKind.Object))
        {
            // pandas reads a list of lists (or of scalars) as rows with columns 0, 1, ...
            var rows = items.Select(x => x.ValueKind == JsonValueKind.Array ? x.EnumerateArray().ToArray() : [x]).ToList();
            int width = rows.Max(r => r.Length);
            rows = rows.Select(r => r.Length == width ? r : r.Concat(Enumerable.Repeat(default(JsonElement), width - r.Length)).ToArray()).ToList();
            return new JsonTable(
                Enumerable.Range(0, width).Select(n => n.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToList(),
                rows,
                true);
        }
        var names = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < items.Count; i++)
        {
            if (items[i].ValueKind != JsonValueKind.Object)
                throw SchemaViolationException.BadInput(
                    $"Provided {form} field is not a valid dataframe representation in 'records' format: record {i + 1} is not an object.",
                    null,
                    i + 1);
            foreach (var prop in items[i].EnumerateObject()) if (seen.Add(prop.Name)) names.Add(prop.Name);
        }
        var table = items.Select(rec => names.Select(n => rec.TryGetProperty(n, out var v) ? v : default).ToArray()).ToList();
        return new JsonTable(names, table, false);
    }

    /// <summary>
    /// Columns given as name → list of values (<c>inputs</c>/<c>instances</c> as a dict), as <c>pd.DataFrame(dict)</c>
    /// reads them: scalars are broadcast, all scalars make one row, and lists must have one length.
    /// </summary>
    public static JsonTable FromColumns(IReadOnlyList<KeyValuePair<string, JsonElement>> columns, bool instances)
    {
        var names = columns.Select(c => c.Key).ToList();
        var lengths = columns.Where(c => c.Value.ValueKind == JsonValueKind.Array).Select(c => c.Value.GetArrayLength()).Distinct().ToList();
        if (lengths.Count > 1)
        {
            var message = $"The length of values for each input/column name are not the same: " +
                $"{string.Join(", ", columns.Where(c => c.Value.ValueKind == JsonValueKind.Array)
                    .Select(c => $"'{c.Key}' has {c.Value.GetArrayLength()}"))}.";
            // MLflow checks the row form (instances) while parsing; the column form fails when the DataFrame is built.
            throw instances
                ? SchemaViolationException.BadInput("Invalid input. " + message)
                : new SchemaViolationException("Failed to enforce schema: there was an error casting the input data to a DataFrame. " + message);
        }
        int rows = lengths.Count == 0 ? 1 : lengths[0];
        var table = new List<JsonElement[]>(rows);
        for (int r = 0; r < rows; r++)
            table.Add(columns.Select(c => c.Value.ValueKind == JsonValueKind.Array ? c.Value[r] : c.Value).ToArray());
        return new JsonTable(names, table, false);
    }

    /// <summary>Converts the values into a typed frame under the planner's column plan.</summary>
    public Frame ToFrame(ColumnPlanner planner)
    {
        var plan = planner(Names);
        var batch = new CsvInput.Batch(plan, Rows.Count);
        for (int r = 0; r < Rows.Count; r++)
        {
            for (int c = 0; c < plan.Count; c++)
            {
                var t = plan[c];
                var e = t.SourceIndex >= 0 ? Rows[r][t.SourceIndex] : default;
                if (e.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null)
                {
                    ValueConversion.SetMissing(
                    t,
                    batch.Arrays[c],
                    ref batch.Masks[c],
                    r,
                    Rows.Count,
                    r + 1); continue;
                }
                ValueConversion.SetFromJson(e, t.Kind, batch.Arrays[c], r, t.Name, r + 1);
            }
            batch.Count++;
        }
        var frame = batch.ToFrame(1);
        return PositionalNames ? frame.WithPositionalNames() : frame;
    }

    public static string PyTypeName(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Array => "list",
        JsonValueKind.Object => "dictionary",
        JsonValueKind.String => "type <class 'str'>",
        JsonValueKind.Number => "type <class 'float'>",
        JsonValueKind.True or JsonValueKind.False => "type <class 'bool'>",
        _ => "type <class 'NoneType'>",
    };
}
