using MlModels.Core.Format.Yaml;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MlModels.Core.Format;

/// <summary>
/// JSON text exactly as Python's <c>json.dumps</c> writes it (", " and ": " separators, ASCII only),
/// which is how MLflow stores signatures inside the MLmodel file.
/// </summary>
public static class PyJson
{
    public static readonly JsonDocumentOptions ReadOptions = new() { MaxDepth = 64, AllowTrailingCommas = false };

    public static string Dumps(JsonNode? node)
    {
        var sb = new StringBuilder();
        Write(sb, node, 0);
        return sb.ToString();
    }

    private static void Write(StringBuilder sb, JsonNode? node, int depth)
    {
        if (depth > 64) throw new InvalidOperationException("JSON nests too deeply.");
        switch (node)
        {
            case null:
                sb.Append("null");
                break;
            case JsonObject obj:
            {
                sb.Append('{');
                bool first = true;
                foreach (var (k, v) in obj)
                {
                    if (!first) sb.Append(", ");
                    first = false;
                    WriteString(sb, k);
                    sb.Append(": ");
                    Write(sb, v, depth + 1);
                }
                sb.Append('}');
                break;
            }
            case JsonArray arr:
            {
                sb.Append('[');
                for (int i = 0; i < arr.Count; i++)
                {
                    if (i > 0) sb.Append(", ");
                    Write(sb, arr[i], depth + 1);
                }
                sb.Append(']');
                break;
            }
            case JsonValue val:
                WriteValue(sb, val);
                break;
        }
    }

    private static void WriteValue(StringBuilder sb, JsonValue val)
    {
        switch (val.GetValueKind())
        {
            case JsonValueKind.String: WriteString(sb, val.GetValue<string>()); break;
            case JsonValueKind.True: sb.Append("true"); break;
            case JsonValueKind.False: sb.Append("false"); break;
            case JsonValueKind.Number:
            {
                var raw = val.ToJsonString();
                if (raw.IndexOfAny(['.', 'e', 'E']) < 0) sb.Append(raw); // integers stay exact, as in Python
                else sb.Append(PyRepr.Float(double.Parse(raw, NumberStyles.Float, CultureInfo.InvariantCulture)));
                break;
            }
            default: sb.Append("null"); break;
        }
    }

    public static void WriteString(StringBuilder sb, string s)
    {
        sb.Append('"');
        foreach (var c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                default:
                    if (c < 0x20 || c > 0x7e) sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else sb.Append(c);
                    break;
            }
        }
        sb.Append('"');
    }

    /// <summary>Turns a JSON node into plain .NET values (Dictionary, List, string, long, double, bool, null).</summary>
    public static object? ToPlain(JsonNode? node) => node switch
    {
        null => null,
        JsonObject o => o.ToDictionary(kv => kv.Key, kv => ToPlain(kv.Value), StringComparer.Ordinal),
        JsonArray a => a.Select(ToPlain).ToList(),
        JsonValue v => v.GetValueKind() switch
        {
            JsonValueKind.String => v.GetValue<string>(),
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.Number => long.TryParse(v.ToJsonString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var l)
                ? (object)l : double.Parse(v.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture),
            _ => null,
        },
        _ => null,
    };

    /// <summary>Plain .NET values to a JSON node.</summary>
    public static JsonNode? FromPlain(object? value) => value switch
    {
        null => null,
        JsonNode n => n.DeepClone(),
        string s => JsonValue.Create(s),
        bool b => JsonValue.Create(b),
        double d => JsonValue.Create(d),
        float f => JsonValue.Create((double)f),
        decimal m => JsonValue.Create(m),
        long or int or short or byte or sbyte or ushort or uint => JsonValue.Create(Convert.ToInt64(value, CultureInfo.InvariantCulture)),
        DateTime dt => JsonValue.Create(dt.ToString("O", CultureInfo.InvariantCulture)),
        System.Collections.IDictionary dict => new JsonObject(dict.Keys.Cast<object>().Select(k =>
            KeyValuePair.Create(Convert.ToString(k, CultureInfo.InvariantCulture)!, FromPlain(dict[k])))),
        System.Collections.IEnumerable list => new JsonArray(list.Cast<object?>().Select(FromPlain).ToArray()),
        _ => JsonValue.Create(Convert.ToString(value, CultureInfo.InvariantCulture)),
    };
}
