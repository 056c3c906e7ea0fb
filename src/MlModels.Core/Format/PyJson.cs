using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using MlModels.Core.Format.Yaml;

namespace MlModels.Core.Format;

/// <summary>
/// JSON text exactly as Python's <c>json.dumps</c> writes it (", " and ": " separators, ASCII only),
/// which is how MLflow stores signatures inside the MLmodel file.
/// </summary>
public static class PyJson
{
    public static readonly JsonDocumentOptions ReadOptions = new() { MaxDepth = 64, AllowTrailingCommas = false };

    /// <summary>
    /// Parses JSON as Python's <c>json.loads</c> reads it: a key repeated in an object keeps its first place and its
    /// last value (<c>JsonNode.Parse</c> instead throws ArgumentException when such an object is first touched);
    /// <c>NaN</c>, <c>Infinity</c> and <c>-Infinity</c> are numbers; lone surrogates in strings are kept.
    /// Invalid JSON throws <see cref="JsonException"/>.
    /// </summary>
    public static JsonNode? Parse(string json)
    {
        json = EscapeLoneSurrogates(json);
        JsonDocument doc;
        string? marker = null;
        try { doc = JsonDocument.Parse(json, ReadOptions); }
        catch (JsonException) when (NamedNumbers(json, out var marked, out marker))
        {
            doc = JsonDocument.Parse(marked, ReadOptions);
        }
        // The document is not disposed: number nodes keep pointing into it (its buffer is then left to the GC).
        return ToNode(doc.RootElement, marker);
    }

    /// <summary>UTF-8 JSON bytes, read as <see cref="Parse(string)"/> reads text (bytes that are not UTF-8 become U+FFFD).</summary>
    public static JsonNode? Parse(ReadOnlySpan<byte> utf8) => Parse(Encoding.UTF8.GetString(utf8));

    // A lone surrogate cannot be turned into UTF-8 for the reader; as an escape it is read back as itself.
    private static string EscapeLoneSurrogates(string s)
    {
        int i = 0;
        for (; i < s.Length; i++)
            if (char.IsSurrogate(s[i]) && !(char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))) break;
            else if (char.IsHighSurrogate(s[i])) i++;
        if (i == s.Length) return s;
        var sb = new StringBuilder(s.Length + 16).Append(s, 0, i);
        for (; i < s.Length; i++)
        {
            char c = s[i];
            if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1])) { sb.Append(c).Append(s[++i]); continue; }
            if (char.IsSurrogate(c)) sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
            else sb.Append(c);
        }
        return sb.ToString();
    }

    /// <summary>
    /// Python's json module reads NaN, Infinity and -Infinity as floats (and json.dumps writes them). Outside strings
    /// they are swapped for marked strings that <see cref="ToNode"/> turns back into numbers.
    /// </summary>
    private static bool NamedNumbers(string json, out string marked, out string marker)
    {
        marker = "\ufdd0" + Guid.NewGuid().ToString("N");
        var sb = new StringBuilder(json.Length + 64);
        bool inString = false, changed = false;
        for (int i = 0; i < json.Length; i++)
        {
            char c = json[i];
            if (inString)
            {
                sb.Append(c);
                if (c == '\\' && i + 1 < json.Length) sb.Append(json[++i]);
                else if (c == '"') inString = false;
                continue;
            }
            if (c == '"') { inString = true; sb.Append(c); continue; }
            string? token = null;
            foreach (var t in (ReadOnlySpan<string>)["NaN", "Infinity", "-Infinity"])
                if (string.CompareOrdinal(json, i, t, 0, t.Length) == 0
                    && (i + t.Length == json.Length || !char.IsLetterOrDigit(json[i + t.Length]))) token = t;
            if (token == null) { sb.Append(c); continue; }
            sb.Append('"').Append(marker).Append(token).Append('"');
            i += token.Length - 1;
            changed = true;
        }
        marked = sb.ToString();
        return changed;
    }

    private static JsonNode? ToNode(JsonElement e, string? marker)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Object:
            {
                var o = new JsonObject();
                foreach (var p in e.EnumerateObject()) o[Name(p)] = ToNode(p.Value, marker);
                return o;
            }
            case JsonValueKind.Array:
            {
                var a = new JsonArray();
                foreach (var x in e.EnumerateArray()) a.Add(ToNode(x, marker));
                return a;
            }
            case JsonValueKind.String:
            {
                var text = String(e);
                if (marker != null && text.StartsWith(marker, StringComparison.Ordinal))
                    return JsonValue.Create(
                        text[marker.Length..] switch { "NaN" => double.NaN, "Infinity" => double.PositiveInfinity, _ => double.NegativeInfinity });
                return JsonValue.Create(text);
            }
            case JsonValueKind.True: return JsonValue.Create(true);
            case JsonValueKind.False: return JsonValue.Create(false);
            // Numbers keep their text, so integers of any size stay exact when written back.
            case JsonValueKind.Number: return JsonValue.Create(e);
            default: return null;
        }
    }

    /// <summary>A JSON string's value; a lone surrogate escape (<c>"\ud800"</c>), which Python keeps, is kept too.</summary>
    public static string String(JsonElement e)
    {
        try { return e.GetString()!; }
        catch (InvalidOperationException) { return Unescape(e.GetRawText()); }
    }

    /// <summary>A property name, with the same rule as <see cref="String(JsonElement)"/>.</summary>
    public static string Name(JsonProperty p)
    {
        try { return p.Name; }
        catch (InvalidOperationException)
        {
            // The property's raw text starts with its quoted name.
            var raw = p.ToString();
            int end = 1;
            while (raw[end] != '"') end += raw[end] == '\\' ? 2 : 1;
            return Unescape(raw[..(end + 1)]);
        }
    }

    // The reader has already checked the escapes are well formed; what is left is to keep lone surrogates as they are.
    private static string Unescape(string quoted)
    {
        var raw = quoted.AsSpan(1, quoted.Length - 2);
        var sb = new StringBuilder(raw.Length);
        for (int i = 0; i < raw.Length; i++)
        {
            if (raw[i] != '\\') { sb.Append(raw[i]); continue; }
            char c = raw[++i];
            switch (c)
            {
                case 'n': sb.Append('\n'); break;
                case 'r': sb.Append('\r'); break;
                case 't': sb.Append('\t'); break;
                case 'b': sb.Append('\b'); break;
                case 'f': sb.Append('\f'); break;
                case 'u': sb.Append((char)int.Parse(raw.Slice(i + 1, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture)); i += 4; break;
                default: sb.Append(c); break; // \" \\ \/
            }
        }
        return sb.ToString();
    }

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
                if (val.TryGetValue<double>(out var nonFinite) && !double.IsFinite(nonFinite)) { sb.Append(PyRepr.Float(nonFinite)); break; }
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

    /// <summary>Turns a JSON node into plain .NET values (Dictionary, List, string, long or BigInteger, double, bool, null).</summary>
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
            JsonValueKind.Number when v.TryGetValue<double>(out var d) && !double.IsFinite(d) => d,
            JsonValueKind.Number => Number(v.ToJsonString()),
            _ => null,
        },
        _ => null,
    };

    // Python's json reads an integer of any width exactly; so do we (long when it fits, else BigInteger).
    private static object Number(string raw) =>
        long.TryParse(raw, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l) ? (object)l
        : raw.IndexOfAny(['.', 'e', 'E']) < 0 ? BigInteger.Parse(raw, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture)
        : double.Parse(raw, NumberStyles.Float, CultureInfo.InvariantCulture);

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
        ulong or BigInteger => JsonNode.Parse(Convert.ToString(value, CultureInfo.InvariantCulture)!),
        DateTime dt => JsonValue.Create(dt.ToString("O", CultureInfo.InvariantCulture)),
        System.Collections.IDictionary dict => new JsonObject(dict.Keys.Cast<object>().Select(k =>
            KeyValuePair.Create(Convert.ToString(k, CultureInfo.InvariantCulture)!, FromPlain(dict[k])))),
        System.Collections.IEnumerable list => new JsonArray(list.Cast<object?>().Select(FromPlain).ToArray()),
        _ => JsonValue.Create(Convert.ToString(value, CultureInfo.InvariantCulture)),
    };
}
