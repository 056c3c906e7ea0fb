using System.Collections;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

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
        JsonValueKind.Number => e.TryGetInt64(out var l) ? l : e.GetDouble(),
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
