using System.Collections;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace MlModels.Deploy.SageMaker;

/// <summary>
/// Plain values (dictionaries, lists, strings, numbers, booleans, as a cmdlet's hashtables unwrap to) to and from
/// JSON: settings such as -VpcConfig become the typed shapes (unknown or missing members are errors that name
/// the parameter), rows become MLflow's dataframe_split request, and answers become plain values again.
/// </summary>
public static class PlainValues
{
    private static readonly JsonSerializerOptions Strict = new(SageMakerJson.Default.Options)
    {
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        TypeInfoResolver = SageMakerJson.Default,
    };

    public static T ToShape<T>(object? plain, string parameter) where T : class
    {
        var bytes = ToJson(plain);
        try
        {
            return JsonSerializer.Deserialize(bytes, (JsonTypeInfo<T>)Strict.GetTypeInfo(typeof(T)))
                ?? throw new ArgumentException($"{parameter} is empty.");
        }
        catch (JsonException ex)
        {
            throw new ArgumentException($"{parameter} is not a valid SageMaker {typeof(T).Name}: {ex.Message}", ex);
        }
    }

    public static byte[] ToJson(object? plain)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer)) Write(w, plain, 0);
        return buffer.ToArray();
    }

    /// <summary>MLflow's dataframe_split request for rows of (column, value) pairs; columns in first-seen order.</summary>
    public static byte[] DataframeSplit(IReadOnlyList<IReadOnlyList<KeyValuePair<string, object?>>> rows)
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
            w.WriteEndObject();
        }
        return buffer.ToArray();
    }

    /// <summary>
    /// The predictions of an MLflow scoring answer as plain values, one per prediction: {"predictions": [...]} (2.x) or
    /// a bare list (older servers); any other JSON value is one item.
    /// </summary>
    public static IReadOnlyList<object?> Predictions(ReadOnlyMemory<byte> body)
    {
        using var doc = JsonDocument.Parse(body);
        var root = doc.RootElement;
        var predictions = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("predictions", out var p) ? p : root;
        return predictions.ValueKind == JsonValueKind.Array ? predictions.EnumerateArray().Select(FromJson).ToList() : [FromJson(predictions)];
    }

    /// <summary>A JSON document as plain values: objects as ordered dictionaries, arrays as lists, numbers as long or double.</summary>
    public static object? FromJson(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => e.EnumerateObject().Aggregate(new Dictionary<string, object?>(StringComparer.Ordinal), (d, p) => { d[p.Name] = FromJson(p.Value); return d; }),
        JsonValueKind.Array => e.EnumerateArray().Select(FromJson).ToList(),
        JsonValueKind.String => e.GetString(),
        JsonValueKind.Number => e.TryGetInt64(out var l) ? l : e.GetDouble(),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => null,
    };

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
            case byte or sbyte or short or ushort or int or uint or long: w.WriteNumberValue(Convert.ToInt64(v, System.Globalization.CultureInfo.InvariantCulture)); break;
            case ulong u: w.WriteNumberValue(u); break;
            case DateTime dt: w.WriteStringValue(dt.ToString("o", System.Globalization.CultureInfo.InvariantCulture)); break;
            case DateTimeOffset dto: w.WriteStringValue(dto.ToString("o", System.Globalization.CultureInfo.InvariantCulture)); break;
            case IDictionary dict:
                w.WriteStartObject();
                foreach (DictionaryEntry e in dict) { w.WritePropertyName(e.Key.ToString()!); Write(w, e.Value, depth + 1); }
                w.WriteEndObject();
                break;
            case IEnumerable list:
                w.WriteStartArray();
                foreach (var item in list) Write(w, item, depth + 1);
                w.WriteEndArray();
                break;
            default: w.WriteStringValue(v.ToString()); break;
        }
    }
}
