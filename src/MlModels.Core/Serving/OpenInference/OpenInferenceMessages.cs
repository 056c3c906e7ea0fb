using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace MlModels.Core.Serving.OpenInference;

/// <summary>The protocol's <c>inference_request</c>; required members are checked by the decoder, so its message can say which.</summary>
public sealed record InferenceRequest
{
    public string? Id { get; init; }
    public Dictionary<string, JsonElement>? Parameters { get; init; }
    public List<RequestInput>? Inputs { get; init; }
    public List<RequestOutput>? Outputs { get; init; }
}

/// <summary>One input tensor: <c>data</c> row-major, flat or nested.</summary>
public sealed record RequestInput
{
    public string? Name { get; init; }
    public long[]? Shape { get; init; }
    public string? Datatype { get; init; }
    public Dictionary<string, JsonElement>? Parameters { get; init; }
    public JsonElement Data { get; init; }
}

/// <summary>An output the client asks for by name.</summary>
public sealed record RequestOutput
{
    public string? Name { get; init; }
    public Dictionary<string, JsonElement>? Parameters { get; init; }
}

/// <summary>The protocol's <c>inference_response</c>.</summary>
public sealed record InferenceResponse(string ModelName, string? ModelVersion, string? Id, Dictionary<string, string>? Parameters,
    IReadOnlyList<ResponseOutput> Outputs);

/// <summary>One output tensor; <see cref="Data"/> is written flat, row-major.</summary>
public sealed record ResponseOutput(string Name, long[] Shape, string Datatype, Dictionary<string, string>? Parameters,
    [property: JsonConverter(typeof(TensorValuesConverter))] TensorValues Data);

/// <summary>A tensor's values as a typed array; masked or NaN elements are written as null, as MLServer writes NaN.</summary>
public sealed record TensorValues(Array Values, bool[]? Missing = null);

/// <summary><c>metadata_server_response</c>.</summary>
public sealed record ServerMetadata(string Name, string Version, IReadOnlyList<string> Extensions);

/// <summary><c>metadata_model_response</c>.</summary>
public sealed record ModelMetadata(string Name, IReadOnlyList<string> Versions, string Platform, IReadOnlyList<MetadataTensor> Inputs,
    IReadOnlyList<MetadataTensor> Outputs);

/// <summary><c>metadata_tensor</c>.</summary>
public sealed record MetadataTensor(string Name, string Datatype, long[] Shape);

/// <summary>The model ready answer, <c>{"name", "ready"}</c>.</summary>
public sealed record ModelReady(string Name, bool Ready);

/// <summary>The server ready answer.</summary>
public sealed record ServerReady(bool Ready);

/// <summary>The server live answer.</summary>
public sealed record ServerLive(bool Live);

/// <summary>Every REST error: <c>{"error": "..."}</c>.</summary>
public sealed record ErrorResponse(string Error);

/// <summary>Writes a typed array's elements as JSON values (never read: requests keep their data as JSON).</summary>
public sealed class TensorValuesConverter : JsonConverter<TensorValues>
{
    public override TensorValues Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        throw new NotSupportedException("Tensor values are read from the request's JSON directly.");

    public override void Write(Utf8JsonWriter writer, TensorValues value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(value);
        writer.WriteStartArray();
        var values = value.Values;
        // The commonest outputs without boxing each element; exact types only (a ulong[] also passes as a long[]).
        if (value.Missing == null && values.GetType() == typeof(float[]))
        {
            foreach (var f in (float[])values) WriteFloat(writer, f);
            writer.WriteEndArray();
            return;
        }
        if (value.Missing == null && values.GetType() == typeof(double[]))
        {
            foreach (var d in (double[])values)
            {
                if (double.IsFinite(d)) writer.WriteNumberValue(d);
                else writer.WriteNullValue();
            }
            writer.WriteEndArray();
            return;
        }
        if (value.Missing == null && values.GetType() == typeof(long[]))
        {
            foreach (var l in (long[])values) writer.WriteNumberValue(l);
            writer.WriteEndArray();
            return;
        }
        for (int i = 0; i < values.Length; i++)
        {
            if (value.Missing != null && value.Missing[i]) { writer.WriteNullValue(); continue; }
            switch (values.GetValue(i))
            {
                case null: writer.WriteNullValue(); break;
                case bool b: writer.WriteBooleanValue(b); break;
                case sbyte v: writer.WriteNumberValue(v); break;
                case byte v: writer.WriteNumberValue(v); break;
                case short v: writer.WriteNumberValue(v); break;
                case ushort v: writer.WriteNumberValue(v); break;
                case int v: writer.WriteNumberValue(v); break;
                case uint v: writer.WriteNumberValue(v); break;
                case long v: writer.WriteNumberValue(v); break;
                case ulong v: writer.WriteNumberValue(v); break;
                case Half h: WriteFloat(writer, (float)h); break;
                case float f: WriteFloat(writer, f); break;
                case double d:
                    if (double.IsFinite(d)) writer.WriteNumberValue(d);
                    else writer.WriteNullValue();
                    break;
                case string s: writer.WriteStringValue(s); break;
                case DateTime t: writer.WriteStringValue(t.ToString("yyyy-MM-dd HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture)); break;
                case var other: writer.WriteStringValue(Convert.ToString(other, CultureInfo.InvariantCulture)); break;
            }
        }
        writer.WriteEndArray();
    }

    private static void WriteFloat(Utf8JsonWriter writer, float f)
    {
        if (float.IsFinite(f)) writer.WriteNumberValue(f);
        else writer.WriteNullValue();
    }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(InferenceRequest))]
[JsonSerializable(typeof(InferenceResponse))]
[JsonSerializable(typeof(ServerMetadata))]
[JsonSerializable(typeof(ModelMetadata))]
[JsonSerializable(typeof(ModelReady))]
[JsonSerializable(typeof(ServerReady))]
[JsonSerializable(typeof(ServerLive))]
[JsonSerializable(typeof(ErrorResponse))]
public sealed partial class OpenInferenceJson : JsonSerializerContext;
