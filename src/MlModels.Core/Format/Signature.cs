using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MlModels.Core.Format;

/// <summary>MLflow's column data types (<c>mlflow.types.DataType</c> plus its complex types).</summary>
public enum DataType { Boolean, Integer, Long, Float, Double, String, Binary, Datetime, Array, Object, Map, Any }

public static class DataTypes
{
    public static bool TryParse(string? name, out DataType type)
    {
        switch (name)
        {
            case "boolean": type = DataType.Boolean; return true;
            case "integer": type = DataType.Integer; return true;
            case "long": type = DataType.Long; return true;
            case "float": type = DataType.Float; return true;
            case "double": type = DataType.Double; return true;
            case "string": type = DataType.String; return true;
            case "binary": type = DataType.Binary; return true;
            case "datetime": type = DataType.Datetime; return true;
            case "array": type = DataType.Array; return true;
            case "object": type = DataType.Object; return true;
            case "map": type = DataType.Map; return true;
            case "any": type = DataType.Any; return true;
            default: type = default; return false;
        }
    }

    public static string ToName(this DataType t) => t.ToString().ToLowerInvariant();
}

/// <summary>One named (or unnamed) column of a column-based schema.</summary>
public sealed class ColumnSpec
{
    internal JsonObject Raw { get; }

    public ColumnSpec(string? name, DataType type, bool required = true)
    {
        // Key order as MLflow's ColSpec.to_dict writes it.
        Raw = new JsonObject { ["type"] = type.ToName() };
        if (name != null) Raw["name"] = name;
        Raw["required"] = required;
    }

    internal ColumnSpec(JsonObject raw, string field)
    {
        Raw = raw;
        var typeName = raw["type"] is JsonValue tv && tv.GetValueKind() == JsonValueKind.String ? tv.GetValue<string>() : null;
        if (!DataTypes.TryParse(typeName, out _))
            throw new MLModelFormatException(
                $"{field}.type: unknown column type '{raw["type"]?.ToJsonString() ?? "(missing)"}'.",
                field: field + ".type");
        if (raw["required"] is JsonNode r && r.GetValueKind() is not (JsonValueKind.True or JsonValueKind.False))
            throw new MLModelFormatException($"{field}.required must be true or false.", field: field + ".required");
    }

    /// <summary>Column name; MLflow allows integer names, which are given here as text.</summary>
    public string? Name => Raw["name"] switch
    {
        null => null,
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        JsonNode n => n.ToJsonString(),
    };

    public DataType Type { get { _ = DataTypes.TryParse(Raw["type"]!.GetValue<string>(), out var t); return t; } }
    public bool Required => Raw["required"]?.GetValueKind() != JsonValueKind.False;

    /// <summary>The full type, e.g. <c>array&lt;double&gt;</c> or <c>object{label: string}</c>.</summary>
    public string TypeName => Describe(Raw);

    private static string Describe(JsonNode? node)
    {
        if (node is not JsonObject o) return "?";
        var t = o["type"]?.GetValue<string>() ?? "?";
        return t switch
        {
            "array" => $"array<{Describe(o["items"])}>",
            "map" => $"map<string, {Describe(o["values"])}>",
            "object" when o["properties"] is JsonObject p => "object{" + string.Join(", ", p.Select(kv => $"{kv.Key}: {Describe(kv.Value)}")) + "}",
            _ => t,
        };
    }

    public override string ToString() => $"{Name ?? "(unnamed)"}: {TypeName}{(Required ? "" : " (optional)")}";
}

/// <summary>One tensor of a tensor-based schema: numpy dtype and shape (-1 for any size).</summary>
public sealed class TensorSpec
{
    internal JsonObject Raw { get; }

    public TensorSpec(string? name, string dtype, IEnumerable<long> shape)
    {
        Raw = new JsonObject
        {
            ["type"] = "tensor", ["tensor-spec"] = new JsonObject
            {
                ["dtype"] = dtype,
                ["shape"] = new JsonArray(shape.Select(s => (JsonNode)JsonValue.Create(s)).ToArray())
            }
        };
        if (name != null) Raw["name"] = name;
    }

    internal TensorSpec(JsonObject raw, string field)
    {
        Raw = raw;
        if (raw["tensor-spec"] is not JsonObject ts)
            throw new MLModelFormatException($"{field}: a tensor needs a 'tensor-spec' object.", field: field);
        if (ts["dtype"] is not JsonValue dt || dt.GetValueKind() != JsonValueKind.String)
            throw new MLModelFormatException($"{field}.tensor-spec.dtype must be a numpy dtype name.", field: field + ".tensor-spec.dtype");
        if (ts["shape"] is not JsonArray shape || shape.Any(s => s is not JsonValue v || v.GetValueKind() != JsonValueKind.Number))
            throw new MLModelFormatException($"{field}.tensor-spec.shape must be a list of integers.", field: field + ".tensor-spec.shape");
    }

    public string? Name => Raw["name"]?.GetValueKind() == JsonValueKind.String ? Raw["name"]!.GetValue<string>() : Raw["name"]?.ToJsonString();
    public string DType => Raw["tensor-spec"]!["dtype"]!.GetValue<string>();
    public long[] Shape => Raw["tensor-spec"]!["shape"]!.AsArray().Select(n => JsonNumbers.ToLong(n)).ToArray();
    public override string ToString() => $"{Name ?? "(unnamed)"}: {DType}[{string.Join(", ", Shape)}]";
}

/// <summary>A model's inputs or outputs: either all columns or all tensors.</summary>
public sealed class Schema
{
    public IReadOnlyList<ColumnSpec> Columns { get; }
    public IReadOnlyList<TensorSpec> Tensors { get; }
    public bool IsTensorBased => Tensors.Count > 0;

    public Schema(IEnumerable<ColumnSpec> columns) { Columns = columns.ToList(); Tensors = []; }
    public Schema(IEnumerable<TensorSpec> tensors) { Tensors = tensors.ToList(); Columns = []; }

    public IReadOnlyList<string?> Names => IsTensorBased ? Tensors.Select(t => t.Name).ToList() : Columns.Select(c => c.Name).ToList();
    public bool HasNames => Names.Count > 0 && Names.All(n => n != null);

    public static Schema Parse(string json, string field)
    {
        JsonNode? node;
        try { node = PyJson.Parse(json); }
        catch (JsonException ex) { throw new MLModelFormatException($"{field} is not valid JSON: {ex.Message}", field: field, inner: ex); }
        if (node is not JsonArray arr)
            throw new MLModelFormatException($"{field} must be a JSON list of column or tensor specs.", field: field);
        var cols = new List<ColumnSpec>();
        var tensors = new List<TensorSpec>();
        for (int i = 0; i < arr.Count; i++)
        {
            var f = $"{field}[{i}]";
            if (arr[i] is not JsonObject o) throw new MLModelFormatException($"{f} must be an object.", field: f);
            if (o["type"]?.GetValueKind() == JsonValueKind.String && o["type"]!.GetValue<string>() == "tensor") tensors.Add(new TensorSpec(o, f));
            else cols.Add(new ColumnSpec(o, f));
        }
        if (cols.Count > 0 && tensors.Count > 0)
            throw new MLModelFormatException($"{field} mixes column specs and tensor specs; MLflow allows only one kind.", field: field);
        return tensors.Count > 0 ? new Schema(tensors) : new Schema(cols);
    }

    public string ToJson() => PyJson.Dumps(
        new JsonArray((IsTensorBased ? Tensors.Select(t => t.Raw) : Columns.Select(c => c.Raw)).Select(r => (JsonNode)r.DeepClone()).ToArray()));
    public override string ToString() => string.Join(", ", IsTensorBased ? Tensors.Select(t => t.ToString()) : Columns.Select(c => c.ToString()));
}

/// <summary>An inference parameter with its type and default (MLflow's ParamSpec).</summary>
public sealed class ParamSpec
{
    internal JsonObject Raw { get; }

    public ParamSpec(string name, DataType type, object? defaultValue, long[]? shape = null)
    {
        Raw = new JsonObject
        {
            ["name"] = name,
            ["type"] = type.ToName(),
            ["default"] = PyJson.FromPlain(defaultValue),
            ["shape"] = shape == null ? null : new JsonArray(shape.Select(s => (JsonNode)JsonValue.Create(s)).ToArray())
        };
    }

    internal ParamSpec(JsonObject raw, string field)
    {
        Raw = raw;
        if (raw["name"] is not JsonValue n || n.GetValueKind() != JsonValueKind.String)
            throw new MLModelFormatException($"{field}.name must be a string.", field: field + ".name");
        if (!DataTypes.TryParse(TypeText(raw), out _))
            throw new MLModelFormatException(
                $"{field}.type: unknown param type '{(raw["type"] ?? raw["dtype"])?.ToJsonString()}'.",
                field: field + ".type");
        if (raw["shape"] is JsonNode shape
            && (shape is not JsonArray items || items.Any(x => x is not JsonValue v || v.GetValueKind() != JsonValueKind.Number)))
            throw new MLModelFormatException($"{field}.shape must be null or a list of integers.", field: field + ".shape");
    }

    public string Name => Raw["name"]!.GetValue<string>();
    public DataType Type { get { _ = DataTypes.TryParse(TypeText(Raw), out var t); return t; } }

    // MLflow 2.5 and 2.6 wrote the param type under "dtype".
    private static string? TypeText(JsonObject raw) =>
        (raw["type"] ?? raw["dtype"]) is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;

    public object? Default => PyJson.ToPlain(Raw["default"]);
    public long[]? Shape => Raw["shape"] is JsonArray a ? a.Select(x => JsonNumbers.ToLong(x)).ToArray() : null;
    public override string ToString() => $"{Name}: {Type.ToName()} = {Convert.ToString(Default, CultureInfo.InvariantCulture) ?? "None"}";
}

public sealed class ParamSchema
{
    public IReadOnlyList<ParamSpec> Params { get; }
    public ParamSchema(IEnumerable<ParamSpec> ps) => Params = ps.ToList();

    public static ParamSchema Parse(string json, string field)
    {
        JsonNode? node;
        try { node = PyJson.Parse(json); }
        catch (JsonException ex) { throw new MLModelFormatException($"{field} is not valid JSON: {ex.Message}", field: field, inner: ex); }
        if (node is not JsonArray arr) throw new MLModelFormatException($"{field} must be a JSON list of param specs.", field: field);
        var list = new List<ParamSpec>();
        for (int i = 0; i < arr.Count; i++)
        {
            if (arr[i] is not JsonObject o) throw new MLModelFormatException($"{field}[{i}] must be an object.", field: $"{field}[{i}]");
            list.Add(new ParamSpec(o, $"{field}[{i}]"));
        }
        return new ParamSchema(list);
    }

    public string ToJson() => PyJson.Dumps(new JsonArray(Params.Select(p => (JsonNode)p.Raw.DeepClone()).ToArray()));
    public override string ToString() => string.Join(", ", Params);
}

/// <summary>The model's signature: inputs, outputs and optional params.</summary>
public sealed class ModelSignature
{
    public Schema? Inputs { get; }
    public Schema? Outputs { get; }
    public ParamSchema? Params { get; }

    public ModelSignature(Schema? inputs, Schema? outputs = null, ParamSchema? @params = null)
    {
        Inputs = inputs; Outputs = outputs; Params = @params;
    }

    /// <summary>Reads the <c>signature</c> mapping of an MLmodel file: JSON strings inside YAML.</summary>
    public static ModelSignature FromDictionary(IDictionary<string, object?> d, string field = "signature")
    {
        Schema? Get(string key) => d.TryGetValue(key, out var v) ? v switch
        {
            null => null,
            string s => Schema.Parse(s, $"{field}.{key}"),
            _ => throw new MLModelFormatException($"{field}.{key} must be a JSON string, not a {YamlTypeName(v)}.", field: $"{field}.{key}"),
        } : null;
        var inputs = Get("inputs");
        var outputs = Get("outputs");
        ParamSchema? ps = null;
        if (d.TryGetValue("params", out var p) && p != null)
        {
            if (p is not string ptxt) throw new MLModelFormatException($"{field}.params must be a JSON string.", field: $"{field}.params");
            ps = ParamSchema.Parse(ptxt, $"{field}.params");
        }
        return new ModelSignature(inputs, outputs, ps);
    }

    public Dictionary<string, object?> ToDictionary()
    {
        var d = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["inputs"] = Inputs?.ToJson(),
            ["outputs"] = Outputs?.ToJson(),
        };
        if (Params != null) d["params"] = Params.ToJson();
        return d;
    }

    /// <summary>The signature as MLflow's JSON form: <c>{"inputs": "...", "outputs": "...", "params": ...}</c>.</summary>
    public string ToJson()
    {
        var o = new JsonObject { ["inputs"] = Inputs?.ToJson(), ["outputs"] = Outputs?.ToJson() };
        if (Params != null) o["params"] = Params.ToJson();
        return PyJson.Dumps(o);
    }

    /// <summary>Accepts MLflow's signature JSON (the dictionary form) or a bare inputs list.</summary>
    public static ModelSignature ParseJson(string json)
    {
        JsonNode? node;
        try { node = PyJson.Parse(json); }
        catch (JsonException ex) { throw new MLModelFormatException($"Signature JSON is not valid: {ex.Message}", inner: ex); }
        if (node is JsonArray) return new ModelSignature(Schema.Parse(json, "inputs"));
        if (node is not JsonObject o) throw new MLModelFormatException(
            "Signature JSON must be an object with inputs/outputs/params, or a list of input specs.");
        var d = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (k, v) in o)
            d[k] = v switch
            {
                null => null,
                JsonValue s when s.GetValueKind() == JsonValueKind.String => s.GetValue<string>(),
                _ => v
                .ToJsonString()
            };
        return FromDictionary(d, "signature");
    }

    internal static string YamlTypeName(object? v) => v switch
    {
        null => "null",
        string => "string",
        bool => "boolean",
        long or int or System.Numerics.BigInteger => "integer",
        double => "number",
        System.Collections.IDictionary => "mapping",
        System.Collections.IEnumerable => "sequence",
        _ => v.GetType().Name,
    };

    public override string ToString() => $"inputs: [{Inputs}] outputs: [{Outputs}]" + (Params != null ? $" params: [{Params}]" : "");
}

internal static class JsonNumbers
{
    /// <summary>A shape entry as an integer; anything else (checked where it is read) counts as -1, any size.</summary>
    public static long ToLong(JsonNode? n)
    {
        if (n is not JsonValue v || v.GetValueKind() != JsonValueKind.Number) return -1;
        if (v.TryGetValue<double>(out var d) && !double.IsFinite(d)) return -1;
        var value = double.Parse(v.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture);
        return double.IsFinite(value) && Math.Abs(value) < 9e18 ? (long)value : -1;
    }
}
