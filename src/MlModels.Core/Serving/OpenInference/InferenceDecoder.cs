using System.Globalization;
using System.Text.Json;
using MlModels.Core.Format;
using MlModels.Core.Scoring;

namespace MlModels.Core.Serving.OpenInference;

/// <summary>
/// An inference request as the model's input, by the rules of MLServer's MLflow runtime and its codecs: each input
/// becomes a typed array of its datatype (<c>NumpyCodec</c>); the request's <c>parameters.content_type</c>, else the
/// one the signature implies (<c>to_model_content_type</c>), says what the model gets: <c>pd</c> a DataFrame, one
/// column per input (<c>PandasCodec</c>); <c>np</c> the one input as an array (<c>NumpyRequestCodec</c>); <c>dict</c>
/// a dict of named arrays (<c>TensorDictCodec</c>). MLflow's schema enforcement then runs as on every scoring path.
/// </summary>
public static class InferenceDecoder
{
    public const string Pandas = "pd";
    public const string Numpy = "np";
    public const string TensorDict = "dict";

    /// <summary>The content type a model gets when the request names none: the signature's, as MLServer's runtime sets it.</summary>
    public static string DefaultContentType(Schema? inputs, int inputCount) => inputs switch
    {
        { IsTensorBased: true, HasNames: true } => TensorDict,
        { IsTensorBased: true } => Numpy,
        { Columns.Count: > 0 } => Pandas,
        // Without a signature MLServer hands the model the request itself, which no MLflow model takes: one input is an array, several a dict.
        _ => inputCount == 1 ? Numpy : TensorDict,
    };

    /// <summary>The model's input for a request, checked against its signature; <see cref="OpenInferenceException"/> or
    /// <see cref="SchemaViolationException"/> (both 400) when it does not fit.</summary>
    public static ModelInput Decode(IScorer scorer, InferenceRequest request, Action<string>? warn)
    {
        ArgumentNullException.ThrowIfNull(scorer);
        ArgumentNullException.ThrowIfNull(request);
        if (request.Inputs is not { Count: > 0 } inputs) throw OpenInferenceException.BadRequest("The request has no \"inputs\".");
        var tensors = new List<KeyValuePair<string, TensorData>>(inputs.Count);
        foreach (var input in inputs)
        {
            var (name, tensor) = DecodeInput(input);
            tensors.Add(KeyValuePair.Create(name, tensor));
        }
        return Assemble(scorer, tensors, ContentTypeOf(request.Parameters), warn);
    }

    /// <summary>
    /// Decoded input tensors (from JSON or gRPC) as the model's input: names known to the signature, then the request's
    /// content type, else the signature's, picks the codec.
    /// </summary>
    public static ModelInput Assemble(IScorer scorer, List<KeyValuePair<string, TensorData>> tensors, string? requestContentType,
        Action<string>? warn)
    {
        ArgumentNullException.ThrowIfNull(scorer);
        ArgumentNullException.ThrowIfNull(tensors);
        if (tensors.Count == 0) throw OpenInferenceException.BadRequest("The request has no \"inputs\".");
        for (int i = 1; i < tensors.Count; i++)
            for (int j = 0; j < i; j++)
                if (tensors[i].Key == tensors[j].Key) throw OpenInferenceException.BadRequest($"The input '{tensors[i].Key}' is given twice.");
        var schema = scorer.Model.Signature?.Inputs;
        if (schema is { HasNames: true })
        {
            var known = schema.Names.ToHashSet(StringComparer.Ordinal);
            foreach (var (name, _) in tensors)
                if (!known.Contains(name))
                    throw OpenInferenceException.BadRequest($"The model's signature has no input '{name}'; it takes {ColumnPlan.PyList(known!)}.");
        }
        var contentType = requestContentType ?? DefaultContentType(schema, tensors.Count);
        return contentType switch
        {
            Pandas => ToFrame(scorer, tensors, warn),
            Numpy => ToArray(scorer, tensors),
            TensorDict => schema is { IsTensorBased: false, Columns.Count: > 0 } ? ToFrame(scorer, tensors, warn) : ToDict(schema, tensors),
            _ => throw OpenInferenceException.BadRequest(
                $"The request's content type '{contentType}' is not one this server decodes: 'pd', 'np' or 'dict'."),
        };
    }

    /// <summary><c>parameters.content_type</c>, when given as a string.</summary>
    public static string? ContentTypeOf(Dictionary<string, JsonElement>? parameters)
    {
        if (parameters == null || !parameters.TryGetValue("content_type", out var value) || value.ValueKind == JsonValueKind.Null) return null;
        return value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : throw OpenInferenceException.BadRequest("\"parameters.content_type\" must be a string.");
    }

    /// <summary>One input as a typed array: its datatype known, its shape whole numbers, its data as many values as the shape holds.</summary>
    public static (string Name, TensorData Tensor) DecodeInput(RequestInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (string.IsNullOrEmpty(input.Name)) throw OpenInferenceException.BadRequest("An input has no \"name\".");
        var name = input.Name;
        if (input.Datatype == null) throw OpenInferenceException.BadRequest($"The input '{name}' has no \"datatype\".");
        if (!TensorDatatypes.TryParse(input.Datatype, out var kind)) throw UnknownDatatype(name, input.Datatype);
        if (input.Shape == null) throw OpenInferenceException.BadRequest($"The input '{name}' has no \"shape\".");
        long count = CheckHeader(name, input.Datatype, kind, input.Shape, ContentTypeOf(input.Parameters));
        if (input.Data.ValueKind != JsonValueKind.Array) throw OpenInferenceException.BadRequest($"The input '{name}' has no \"data\" list.");
        var leaves = new List<JsonElement>();
        Flatten(input.Data, leaves, name, 0);
        CheckCount(name, input.Shape, count, leaves.Count);
        var values = ElementKinds.NewArray(kind, leaves.Count);
        for (int i = 0; i < leaves.Count; i++) Set(leaves[i], kind, values, i, name, input.Datatype);
        return (name, new TensorData(kind, (long[])input.Shape.Clone(), values));
    }

    /// <summary>An input's datatype, shape and content type, checked as every transport's input is; the number of values the shape holds.</summary>
    public static long CheckHeader(string name, string datatype, ElementKind kind, IReadOnlyList<long> shape, string? inputContentType)
    {
        ArgumentNullException.ThrowIfNull(shape);
        if (shape.Any(d => d < 0))
            throw OpenInferenceException.BadRequest($"The input '{name}' has a negative size in its shape {Text(shape)}.");
        if (inputContentType is not (null or Numpy or "str" or "datetime"))
            throw OpenInferenceException.BadRequest($"The input '{name}' has the content type '{inputContentType}', which this server does " +
                "not decode ('np', 'str' or 'datetime' are).");
        if (inputContentType == "str" && kind != ElementKind.String)
            throw OpenInferenceException.BadRequest($"The input '{name}' has the content type 'str', which takes BYTES, not {datatype}.");
        long count = 1;
        foreach (var d in shape)
        {
            count *= d;
            if (count > int.MaxValue) throw OpenInferenceException.BadRequest($"The input '{name}' is too large.");
        }
        return count;
    }

    /// <summary>The shape must hold as many values as the data gives.</summary>
    public static void CheckCount(string name, IReadOnlyList<long> shape, long count, long given)
    {
        if (count != given)
            throw OpenInferenceException.BadRequest($"The input '{name}' has the shape {Text(shape)}, which holds {count:N0} values, but " +
                $"its data has {given:N0}.");
    }

    /// <summary>The message for a datatype the protocol does not have.</summary>
    public static OpenInferenceException UnknownDatatype(string name, string datatype) =>
        OpenInferenceException.BadRequest($"The input '{name}' has the datatype '{datatype}', which is not one of the " +
            "protocol's: BOOL, UINT8, UINT16, UINT32, UINT64, INT8, INT16, INT32, INT64, FP16, FP32, FP64, BYTES.");

    private static void Flatten(JsonElement e, List<JsonElement> into, string name, int depth)
    {
        if (depth > 64) throw OpenInferenceException.BadRequest($"The input '{name}' nests its data more than 64 deep.");
        foreach (var item in e.EnumerateArray())
        {
            if (item.ValueKind == JsonValueKind.Array) Flatten(item, into, name, depth + 1);
            else into.Add(item);
        }
    }

    /// <summary>One element as its datatype: integers whole and in range, floats numbers (null is NaN), BOOL true or false, BYTES strings.</summary>
    private static void Set(JsonElement e, ElementKind kind, Array dest, int i, string name, string datatype)
    {
        bool ok = kind switch
        {
            ElementKind.Bool => e.ValueKind is JsonValueKind.True or JsonValueKind.False && Store(e.GetBoolean()),
            ElementKind.String => e.ValueKind == JsonValueKind.String && Store(e.GetString()),
            ElementKind.Float16 or ElementKind.Float32 or ElementKind.Float64 => e.ValueKind == JsonValueKind.Null ? StoreFloat(double.NaN)
                : e.ValueKind == JsonValueKind.Number && e.TryGetDouble(out var d) && StoreFloat(d),
            ElementKind.UInt64 => e.ValueKind == JsonValueKind.Number && e.TryGetUInt64(out var u) && Store(u),
            _ => e.ValueKind == JsonValueKind.Number && e.TryGetInt64(out var l) && ValueConversion.TryStoreInteger(l, kind, dest, i),
        };
        if (!ok)
            throw OpenInferenceException.BadRequest($"The input '{name}' is {datatype}, and its value {Show(e)} (element {i:N0}) is not " +
                (kind == ElementKind.String ? "a string." : kind == ElementKind.Bool ? "true or false." : kind.IsInteger()
                    ? $"a whole number that {kind.NumpyName()} holds." : "a number."));

        bool Store(object? v)
        {
            dest.SetValue(v, i);
            return true;
        }

        bool StoreFloat(double v)
        {
            if (kind == ElementKind.Float16) ((Half[])dest)[i] = (Half)v;
            else if (kind == ElementKind.Float32) ((float[])dest)[i] = (float)v;
            else ((double[])dest)[i] = v;
            return true;
        }
    }

    private static string Show(JsonElement e)
    {
        var raw = e.GetRawText();
        return raw.Length > 40 ? raw[..40] + "..." : raw;
    }

    public static string Text(IReadOnlyList<long> shape) =>
        "[" + string.Join(", ", shape.Select(d => d.ToString(CultureInfo.InvariantCulture))) + "]";

    /// <summary>
    /// <c>PandasCodec.decode_request</c>: each input a column (shape [N] or [N, 1]) of its own datatype; then MLflow's
    /// column rules: the signature's columns planned, each value converted under <c>_enforce_mlflow_datatype</c>'s
    /// widening-only rules (int32 into double yes, int64 into double or double into float no).
    /// </summary>
    private static ModelInput ToFrame(IScorer scorer, List<KeyValuePair<string, TensorData>> tensors, Action<string>? warn)
    {
        int? rows = null;
        foreach (var (name, t) in tensors)
        {
            if (t.Shape.Length == 0 || t.Shape.Length > 2 || (t.Shape.Length == 2 && t.Shape[1] != 1))
                throw OpenInferenceException.BadRequest(
                    $"The input '{name}' has the shape {Text(t.Shape)}; a DataFrame column ('pd') is [N] or [N, 1].");
            if (rows != null && rows != (int)t.Shape[0])
                throw OpenInferenceException.BadRequest($"The inputs are columns of one DataFrame ('pd') and must have as many rows: " +
                    string.Join(", ", tensors.Select(p => $"'{p.Key}' has {p.Value.Shape[0]}")) + ".");
            rows = (int)t.Shape[0];
        }
        int n = rows ?? 0;
        var names = tensors.Select(t => t.Key).ToList();
        var schema = scorer.Model.Signature?.Inputs;
        Frame frame;
        if (schema is { IsTensorBased: false, Columns.Count: > 0 })
        {
            var plan = PredictionEngine.Planner(scorer, warn)(names);
            var batch = new CsvInput.Batch(plan, n);
            for (int c = 0; c < plan.Count; c++)
            {
                var target = plan[c];
                var source = target.SourceIndex >= 0 ? tensors[target.SourceIndex].Value : null;
                for (int r = 0; r < n; r++)
                {
                    var value = source?.Data.GetValue(r);
                    if (value is Half half) value = (float)half; // float16 widens as float32 does, and Half has no IConvertible
                    if (value == null)
                    {
                        ValueConversion.SetMissing(target, batch.Arrays[c], ref batch.Masks[c], r, n, r + 1);
                        continue;
                    }
                    ValueConversion.SetFromObject(value, target.Kind, batch.Arrays[c], r, target.Name, r + 1);
                }
            }
            batch.Count = n;
            frame = batch.ToFrame(1);
        }
        else frame = new Frame(names, tensors.Select(t => new ColumnData(t.Value.Kind, t.Value.Data)).ToList(), n);
        return PredictionEngine.Enforce(scorer, frame, false);
    }

    /// <summary>
    /// <c>NumpyRequestCodec</c>: the one input as an array, held to the tensor spec as <c>_enforce_tensor_spec</c> does
    /// (dtype exact, shape -1 for any size).
    /// </summary>
    private static ModelInput ToArray(IScorer scorer, List<KeyValuePair<string, TensorData>> tensors)
    {
        if (tensors.Count != 1)
            throw OpenInferenceException.BadRequest($"The 'np' content type takes a single input tensor ({tensors.Count} were received).");
        var schema = scorer.Model.Signature?.Inputs;
        var (name, tensor) = tensors[0];
        switch (schema)
        {
            case { IsTensorBased: false, Columns.Count: > 0 }:
                throw new SchemaViolationException($"Failed to enforce schema: the model has a column-based signature, which takes a DataFrame " +
                    $"('pd': one input per column {ColumnPlan.PyList(schema.Columns.Select(c => c.Name ?? ""))}), but the request is one array " +
                    $"('np') of shape {TensorConversion.ShapeText(tensor.Shape)}.");
            case { IsTensorBased: true, HasNames: true }:
                return ToDict(schema, tensors);
            case { IsTensorBased: true }:
                var spec = schema.Tensors[0];
                RequireDtype(spec, spec.Name ?? name, tensor);
                TensorConversion.Check(spec, spec.Name ?? name, tensor);
                return new TensorInput(tensor);
            default:
                return new TensorInput(tensor);
        }
    }

    /// <summary><c>TensorDictCodec</c>: a dict of named arrays, each held to its tensor spec; a spec without an input is missing.</summary>
    private static ModelInput ToDict(Schema? schema, List<KeyValuePair<string, TensorData>> tensors)
    {
        if (schema is not { IsTensorBased: true }) return new TensorDictInput(tensors);
        if (!schema.HasNames)
            throw new SchemaViolationException($"Failed to enforce schema: the model's tensor signature has no input names, which takes one " +
                $"array ('np'), but the request is a dict of {tensors.Count} named arrays ('dict').");
        var missing = schema.Tensors.Where(s => tensors.All(t => t.Key != s.Name)).Select(s => s.Name!).ToList();
        if (missing.Count > 0)
            throw new SchemaViolationException($"Failed to enforce schema. Error: Model is missing inputs {ColumnPlan.PyList(missing)}.", missing[0]);
        var ordered = new List<KeyValuePair<string, TensorData>>();
        foreach (var spec in schema.Tensors)
        {
            var tensor = tensors.First(t => t.Key == spec.Name).Value;
            RequireDtype(spec, spec.Name!, tensor);
            TensorConversion.Check(spec, spec.Name!, tensor);
            ordered.Add(KeyValuePair.Create(spec.Name!, tensor));
        }
        return new TensorDictInput(ordered);
    }

    /// <summary>MLflow's <c>_enforce_tensor_spec</c>: an array's dtype must be the spec's (the server does not cast arrays).</summary>
    private static void RequireDtype(TensorSpec spec, string name, TensorData tensor)
    {
        var expected = TensorConversion.KindOf(spec);
        if (tensor.Kind != expected)
            throw new SchemaViolationException($"Failed to enforce schema of data with schema '{spec}'. Error: dtype of input " +
                $"{tensor.Kind.NumpyName()} does not match expected dtype {expected.NumpyName()} (send the input as " +
                $"{TensorDatatypes.Of(expected)}).", name);
    }
}
