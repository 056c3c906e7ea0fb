using System.Collections;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using nietras.SeparatedValues;

namespace MlModels.Deploy.Endpoints;

/// <summary>
/// The bodies the module sends to scoring endpoints and reads back, with one JSON convention for every target:
/// rows (name/value pairs, as a cmdlet unwraps pipeline objects) become MLflow's dataframe_split request; MLflow's
/// request forms map onto Azure ML's input_data form; answers become plain values (ordered dictionaries, lists,
/// strings, long or double, booleans, null).
/// </summary>
public static class ScoringBodies
{
    /// <summary>
    /// MLflow's dataframe_split request for rows of (column, value) pairs, columns in first-seen order (a missing value is
    /// null); <paramref name="withIndex"/> adds pandas' index 0..n-1, which Azure ML's input_data form carries.
    /// </summary>
    public static byte[] DataframeSplit(IReadOnlyList<IReadOnlyList<KeyValuePair<string, object?>>> rows,
        IReadOnlyDictionary<string, object?>? parameters = null, bool withIndex = false)
    {
        var columns = new List<string>();
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var row in rows)
            foreach (var (k, _) in row)
                if (index.TryAdd(k, columns.Count)) columns.Add(k);
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteStartObject("dataframe_split");
            w.WriteStartArray("columns");
            foreach (var c in columns) w.WriteStringValue(c);
            w.WriteEndArray();
            if (withIndex)
            {
                w.WriteStartArray("index");
                for (int i = 0; i < rows.Count; i++) w.WriteNumberValue(i);
                w.WriteEndArray();
            }
            w.WriteStartArray("data");
            foreach (var row in rows)
            {
                var values = new object?[columns.Count];
                foreach (var (k, v) in row) values[index[k]] = v;
                w.WriteStartArray();
                foreach (var v in values) Write(w, v, 0);
                w.WriteEndArray();
            }
            w.WriteEndArray();
            w.WriteEndObject();
            if (parameters != null)
            {
                w.WritePropertyName("params");
                Write(w, parameters, 0);
            }
            w.WriteEndObject();
        }
        return buffer.ToArray();
    }

    /// <summary>
    /// MLflow's request forms mapped onto Azure ML's (what its MLflow no-code deployments read): tables to a split-orient
    /// input_data, tensors as they are, params kept; a body already in input_data form passes through.
    /// </summary>
    public static byte[] AzureMLInputData(ReadOnlySpan<byte> mlflow)
    {
        JsonNode? parsed;
        try { parsed = JsonNode.Parse(mlflow); }
        catch (JsonException ex) { throw new ArgumentException("The request is not JSON: " + ex.Message, ex); }
        if (parsed is not JsonObject o) throw new ArgumentException("The request must be a JSON object in one of MLflow's forms.");
        var azure = new JsonObject();
        if (o["input_data"] is { } already) azure["input_data"] = already.DeepClone();
        else if (o["dataframe_split"] is JsonObject split) azure["input_data"] = split.DeepClone();
        else if (o["dataframe_records"] is JsonArray records)
        {
            var columns = new List<string>();
            foreach (var r in records.OfType<JsonObject>()) foreach (var (k, _) in r) if (!columns.Contains(k)) columns.Add(k);
            azure["input_data"] = new JsonObject
            {
                ["columns"] = new JsonArray(columns.Select(c => (JsonNode)c).ToArray()),
                ["index"] = new JsonArray(Enumerable.Range(0, records.Count).Select(i => (JsonNode)i).ToArray()),
                ["data"] = new JsonArray(records.Select(r => (JsonNode)new JsonArray(columns.Select(c => r?[c]?.DeepClone()).ToArray())).ToArray()),
            };
        }
        else if ((o["inputs"] ?? o["instances"]) is { } tensors) azure["input_data"] = tensors.DeepClone();
        else throw new ArgumentException("The request has none of MLflow's keys (dataframe_split, dataframe_records, instances, inputs).");
        if (o["params"] is { } p) azure["params"] = p.DeepClone();
        return JsonSerializer.SerializeToUtf8Bytes(azure);
    }

    /// <summary>
    /// The predictions of a scoring answer as plain values, one per prediction: {"predictions": [...]} (MLflow 2.x) or a
    /// bare list (older servers, Azure ML); any other JSON value is one item.
    /// </summary>
    public static IReadOnlyList<object?> Predictions(ReadOnlyMemory<byte> body)
    {
        using var doc = JsonDocument.Parse(body);
        var root = doc.RootElement;
        var predictions = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("predictions", out var p) ? p : root;
        return predictions.ValueKind == JsonValueKind.Array ? predictions.EnumerateArray().Select(FromJson).ToList() : [FromJson(predictions)];
    }

    /// <summary>
    /// An Open Inference (V2) request for rows of (column, value) pairs: one input per column, shape [rows], its datatype
    /// the model's where <paramref name="datatypes"/> names the column (from its metadata), else from the values (BOOL,
    /// INT64, FP64, else BYTES for text). A column a row lacks, or a null, is refused: V2 tensors have no missing values.
    /// </summary>
    public static byte[] InferenceRequest(IReadOnlyList<IReadOnlyList<KeyValuePair<string, object?>>> rows,
        IReadOnlyDictionary<string, string>? datatypes = null)
    {
        var columns = new List<string>();
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var row in rows)
            foreach (var (k, _) in row)
                if (index.TryAdd(k, columns.Count)) columns.Add(k);
        var values = new object?[rows.Count, columns.Count];
        var present = new bool[rows.Count, columns.Count];
        for (int r = 0; r < rows.Count; r++)
            foreach (var (k, v) in rows[r])
            {
                values[r, index[k]] = v;
                present[r, index[k]] = true;
            }
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteStartArray("inputs");
            for (int c = 0; c < columns.Count; c++)
            {
                var datatype = "BOOL";
                for (int r = 0; r < rows.Count; r++)
                {
                    if (!present[r, c] || values[r, c] == null)
                        throw new ArgumentException($"Row {r} has no value for '{columns[c]}': Open Inference tensors have no missing values.");
                    datatype = Widen(datatype, values[r, c]!);
                }
                if (datatypes != null && datatypes.TryGetValue(columns[c], out var declared)) datatype = declared;
                w.WriteStartObject();
                w.WriteString("name", columns[c]);
                w.WriteStartArray("shape");
                w.WriteNumberValue(rows.Count);
                w.WriteEndArray();
                w.WriteString("datatype", datatype);
                w.WriteStartArray("data");
                for (int r = 0; r < rows.Count; r++)
                {
                    var v = values[r, c]!;
                    try
                    {
                        switch (datatype)
                        {
                            case "BOOL": w.WriteBooleanValue(Convert.ToBoolean(v, CultureInfo.InvariantCulture)); break;
                            case "INT8" or "INT16" or "INT32" or "INT64" or "UINT8" or "UINT16" or "UINT32":
                                w.WriteNumberValue(Convert.ToInt64(v, CultureInfo.InvariantCulture));
                                break;
                            case "UINT64": w.WriteNumberValue(Convert.ToUInt64(v, CultureInfo.InvariantCulture)); break;
                            case "FP16" or "FP32" or "FP64": w.WriteNumberValue(Convert.ToDouble(v, CultureInfo.InvariantCulture)); break;
                            default: w.WriteStringValue(Convert.ToString(v, CultureInfo.InvariantCulture)); break;
                        }
                    }
                    catch (Exception ex) when (ex is FormatException or InvalidCastException or OverflowException)
                    {
                        throw new ArgumentException($"Row {r}'s '{columns[c]}' ({v}) is not a {datatype} value.", ex);
                    }
                }
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return buffer.ToArray();
    }

    // The narrowest datatype that holds every value so far: BOOL < INT64 < FP64 < BYTES (a mix of bools and numbers is text).
    private static string Widen(string so, object v)
    {
        var kind = v switch
        {
            bool => "BOOL",
            byte or sbyte or short or ushort or int or uint or long => "INT64",
            float or double or decimal => "FP64",
            _ => "BYTES",
        };
        if (so == kind) return so;
        if (so == "BOOL") return kind == "BOOL" ? so : kind;
        if (so == "BYTES" || kind == "BYTES" || kind == "BOOL") return "BYTES";
        return so == "FP64" || kind == "FP64" ? "FP64" : "INT64";
    }

    /// <summary>
    /// Rows of a CSV text (a header, then values) as an Open Inference request: a column the model's metadata types takes its
    /// datatype; otherwise one whose every value is an integer is INT64, one of numbers FP64, any other BYTES, as pandas reads it.
    /// </summary>
    public static byte[] InferenceRequestFromCsv(string csv, IReadOnlyDictionary<string, string>? datatypes = null)
    {
        using var reader = Sep.Reader(o => o with { Unescape = true }).FromText(csv);
        var names = reader.Header.ColNames.ToArray();
        var text = new List<string[]>();
        foreach (var row in reader)
        {
            var cells = new string[names.Length];
            for (int i = 0; i < names.Length; i++) cells[i] = row[i].ToString();
            text.Add(cells);
        }
        var kinds = new string[names.Length];
        for (int c = 0; c < names.Length; c++)
            kinds[c] = text.All(r => long.TryParse(r[c], NumberStyles.Integer, CultureInfo.InvariantCulture, out _)) ? "INT64"
                : text.All(r => double.TryParse(r[c], NumberStyles.Float, CultureInfo.InvariantCulture, out _)) ? "FP64" : "BYTES";
        var rows = text.Select(r => (IReadOnlyList<KeyValuePair<string, object?>>)names.Select((n, c) => KeyValuePair.Create(n, kinds[c] switch
        {
            "INT64" => (object?)long.Parse(r[c], NumberStyles.Integer, CultureInfo.InvariantCulture),
            "FP64" => double.Parse(r[c], NumberStyles.Float, CultureInfo.InvariantCulture),
            _ => r[c],
        })).ToList()).ToList();
        return InferenceRequest(rows, datatypes);
    }

    /// <summary>A model metadata answer's inputs as name → datatype; null where it lists none.</summary>
    public static IReadOnlyDictionary<string, string>? InferenceInputTypes(ReadOnlyMemory<byte> metadata)
    {
        try
        {
            using var doc = JsonDocument.Parse(metadata);
            if (!doc.RootElement.TryGetProperty("inputs", out var inputs) || inputs.ValueKind != JsonValueKind.Array) return null;
            var types = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var i in inputs.EnumerateArray())
                if (i.TryGetProperty("name", out var n) && i.TryGetProperty("datatype", out var d) && n.GetString() is { } name
                    && d.GetString() is { } type) types[name] = type;
            return types.Count == 0 ? null : types;
        }
        catch (JsonException) { return null; }
    }

    /// <summary>Checks that a body is an Open Inference request (a JSON object with an "inputs" array) before it is sent.</summary>
    public static void CheckInferenceRequest(ReadOnlySpan<byte> body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body.ToArray());
            if (doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty("inputs", out var inputs)
                || inputs.ValueKind != JsonValueKind.Array)
                throw new ArgumentException("The request is not an Open Inference request: it needs an \"inputs\" array.");
        }
        catch (JsonException ex) { throw new ArgumentException("The request is not JSON: " + ex.Message, ex); }
    }

    /// <summary>
    /// An Open Inference response's outputs as rows: row i holds each output's i-th element along its first dimension
    /// (a value for shape [n], a list for shape [n, k, ...]). Outputs that disagree on n, or a scalar, give one row.
    /// </summary>
    public static IReadOnlyList<Dictionary<string, object?>> InferenceRows(ReadOnlyMemory<byte> body)
    {
        using var doc = JsonDocument.Parse(body);
        if (!doc.RootElement.TryGetProperty("outputs", out var outputs) || outputs.ValueKind != JsonValueKind.Array)
            throw new InvalidDataException("The answer is not an Open Inference response: it has no \"outputs\" array.");
        var tensors = outputs.EnumerateArray().Select(o => (
            Name: o.GetProperty("name").GetString() ?? "",
            Shape: o.TryGetProperty("shape", out var s) ? s.EnumerateArray().Select(x => x.GetInt64()).ToArray() : [],
            Data: Flatten(o.GetProperty("data")))).ToList();
        var n = tensors.Count > 0 && tensors[0].Shape.Length > 0 ? tensors[0].Shape[0] : 1;
        if (tensors.Any(t => t.Shape.Length == 0 || t.Shape[0] != n || n <= 0 || t.Data.Count % n != 0))
            return [tensors.ToDictionary(t => t.Name, t => (object?)t.Data, StringComparer.Ordinal)];
        var rows = new List<Dictionary<string, object?>>();
        for (int i = 0; i < n; i++)
        {
            var row = new Dictionary<string, object?>(StringComparer.Ordinal);
            foreach (var t in tensors)
            {
                var width = (int)(t.Data.Count / n);
                row[t.Name] = t.Shape.Length == 1 ? t.Data[i] : t.Data.GetRange(i * width, width);
            }
            rows.Add(row);
        }
        return rows;
    }

    private static List<object?> Flatten(JsonElement data)
    {
        var flat = new List<object?>();
        void Walk(JsonElement e)
        {
            if (e.ValueKind == JsonValueKind.Array) foreach (var x in e.EnumerateArray()) Walk(x);
            else flat.Add(FromJson(e));
        }
        Walk(data);
        return flat;
    }

    /// <summary>A JSON value as plain values: objects as ordered dictionaries, arrays as lists, numbers as long or double.</summary>
    public static object? FromJson(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => e.EnumerateObject().Aggregate(new Dictionary<string, object?>(StringComparer.Ordinal), (d, p) =>
        {
            d[p.Name] = FromJson(p.Value);
            return d;
        }),
        JsonValueKind.Array => e.EnumerateArray().Select(FromJson).ToList(),
        JsonValueKind.String => e.GetString(),
        // Cast, or the conditional is typed double and every integer comes back as a double.
        JsonValueKind.Number => e.TryGetInt64(out var l) ? (object)l : e.GetDouble(),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => null,
    };

    /// <summary>Plain values as JSON (dictionaries as objects, other sequences as arrays, dates in ISO 8601).</summary>
    public static byte[] ToJson(object? plain)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer)) Write(w, plain, 0);
        return buffer.ToArray();
    }

    private static void Write(Utf8JsonWriter w, object? v, int depth)
    {
        if (depth > 64) throw new ArgumentException("The value nests more than 64 levels deep.");
        switch (v)
        {
            case null: w.WriteNullValue(); break;
            case string s: w.WriteStringValue(s); break;
            case bool b: w.WriteBooleanValue(b); break;
            case float f: w.WriteNumberValue(f); break;
            case double d: w.WriteNumberValue(d); break;
            case decimal m: w.WriteNumberValue(m); break;
            case byte or sbyte or short or ushort or int or uint or long: w.WriteNumberValue(Convert.ToInt64(v, CultureInfo.InvariantCulture)); break;
            case ulong u: w.WriteNumberValue(u); break;
            case DateTime dt: w.WriteStringValue(dt.ToString("o", CultureInfo.InvariantCulture)); break;
            case DateTimeOffset dto: w.WriteStringValue(dto.ToString("o", CultureInfo.InvariantCulture)); break;
            case IDictionary dict:
                w.WriteStartObject();
                foreach (DictionaryEntry e in dict)
                {
                    w.WritePropertyName(e.Key.ToString()!);
                    Write(w, e.Value, depth + 1);
                }
                w.WriteEndObject();
                break;
            case IEnumerable<KeyValuePair<string, object?>> pairs:
                w.WriteStartObject();
                foreach (var (k, x) in pairs)
                {
                    w.WritePropertyName(k);
                    Write(w, x, depth + 1);
                }
                w.WriteEndObject();
                break;
            case IEnumerable list:
                w.WriteStartArray();
                foreach (var item in list) Write(w, item, depth + 1);
                w.WriteEndArray();
                break;
            default: w.WriteStringValue(Convert.ToString(v, CultureInfo.InvariantCulture)); break;
        }
    }
}
