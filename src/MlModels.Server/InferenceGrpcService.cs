using Google.Protobuf;
using Google.Protobuf.Collections;
using Grpc.Core;
using Inference;
using MlModels.Core.Scoring;
using MlModels.Core.Serving.OpenInference;

namespace MlModels.Server;

/// <summary>
/// The Open Inference Protocol's gRPC service (<c>inference.GRPCInferenceService</c>) for the server's one model: each
/// RPC is translated onto <see cref="OpenInferenceService"/>, the REST endpoints' code, so both transports check, score
/// and encode alike; this class only moves values between protobuf messages and Core's types (<see cref="TensorContents"/>)
/// and answers a failure's HTTP status as its gRPC code (<see cref="CodeOf"/>). Outputs are raw
/// (<c>raw_output_contents</c>) when the request's inputs were raw, or when an output is FP16, which has no typed list.
/// </summary>
internal sealed class InferenceGrpcService(OpenInferenceService v2) : GRPCInferenceService.GRPCInferenceServiceBase
{
    public override Task<ServerLiveResponse> ServerLive(ServerLiveRequest request, ServerCallContext context) =>
        Task.FromResult(new ServerLiveResponse { Live = true });

    public override Task<ServerReadyResponse> ServerReady(ServerReadyRequest request, ServerCallContext context) =>
        Task.FromResult(new ServerReadyResponse { Ready = v2.IsReady });

    public override Task<ModelReadyResponse> ModelReady(ModelReadyRequest request, ServerCallContext context)
    {
        Known(request.Name, request.Version);
        return Task.FromResult(new ModelReadyResponse { Ready = v2.IsReady });
    }

    public override Task<ServerMetadataResponse> ServerMetadata(ServerMetadataRequest request, ServerCallContext context)
    {
        var server = OpenInferenceService.Server;
        var answer = new ServerMetadataResponse { Name = server.Name, Version = server.Version };
        answer.Extensions.AddRange(server.Extensions);
        return Task.FromResult(answer);
    }

    public override Task<ModelMetadataResponse> ModelMetadata(ModelMetadataRequest request, ServerCallContext context)
    {
        Known(request.Name, request.Version);
        var metadata = v2.Metadata;
        var answer = new ModelMetadataResponse { Name = metadata.Name, Platform = metadata.Platform };
        answer.Versions.AddRange(metadata.Versions);
        answer.Inputs.AddRange(metadata.Inputs.Select(Tensor));
        answer.Outputs.AddRange(metadata.Outputs.Select(Tensor));
        return Task.FromResult(answer);

        static ModelMetadataResponse.Types.TensorMetadata Tensor(MetadataTensor t)
        {
            var m = new ModelMetadataResponse.Types.TensorMetadata { Name = t.Name, Datatype = t.Datatype };
            m.Shape.AddRange(t.Shape);
            return m;
        }
    }

    public override async Task<ModelInferResponse> ModelInfer(ModelInferRequest request, ServerCallContext context)
    {
        InferenceCall call;
        try
        {
            call = new InferenceCall(request.Id.Length == 0 ? null : request.Id, () => Inputs(request),
                ContentType(request.Parameters, "The request's"), Params(request.Parameters), Outputs(request), request.CalculateSize());
        }
        catch (OpenInferenceException ex) { throw Failure(ex.Status, ex.Message); }
        var headers = context.RequestHeaders;
        var outcome = await v2.InferAsync(request.ModelName, request.ModelVersion.Length == 0 ? null : request.ModelVersion, call,
            headers.GetValue("x-api-key"), headers.GetValue("authorization"), context.CancellationToken).ConfigureAwait(false);
        if (outcome.Response is not { } response) throw Failure(outcome.Status, outcome.Error ?? "");
        return Answer(response, raw: request.RawInputContents.Count > 0);
    }

    private void Known(string name, string version)
    {
        if (v2.Unknown(name, version.Length == 0 ? null : version) is { } message) throw Failure(404, message);
    }

    /// <summary>The inputs as tensors: all raw (one raw entry per input, in order) or all in their typed lists.</summary>
    private static List<KeyValuePair<string, TensorData>> Inputs(ModelInferRequest request)
    {
        if (request.Inputs.Count == 0) throw OpenInferenceException.BadRequest("The request has no \"inputs\".");
        var raw = request.RawInputContents;
        if (raw.Count > 0 && raw.Count != request.Inputs.Count)
            throw OpenInferenceException.BadRequest($"The request has {request.Inputs.Count} inputs but {raw.Count} raw_input_contents; " +
                "raw contents give one entry per input, in order.");
        var tensors = new List<KeyValuePair<string, TensorData>>(request.Inputs.Count);
        for (int i = 0; i < request.Inputs.Count; i++)
        {
            var input = request.Inputs[i];
            var shape = input.Shape.ToArray();
            var (kind, count) = TensorContents.Header(input.Name, input.Datatype, shape,
                ContentType(input.Parameters, $"The input '{input.Name}''s"));
            TensorData tensor;
            if (raw.Count > 0)
            {
                if (Given(input.Contents) is { } both)
                    throw OpenInferenceException.BadRequest($"The input '{input.Name}' has {both} beside raw_input_contents; a request " +
                        "gives either raw contents for every input or none.");
                tensor = TensorContents.FromRaw(input.Name, input.Datatype, kind, shape, count, raw[i].Span);
            }
            else tensor = Typed(input, kind, shape, count);
            tensors.Add(KeyValuePair.Create(input.Name, tensor));
        }
        return tensors;
    }

    private static TensorData Typed(ModelInferRequest.Types.InferInputTensor input, ElementKind kind, long[] shape, int count)
    {
        var c = input.Contents ?? new InferTensorContents();
        var field = TensorContents.FieldOf(kind);
        if (Given(c, except: field) is { } other) throw TensorContents.WrongList(input.Name, input.Datatype, kind, other);
        var name = input.Name;
        return kind switch
        {
            ElementKind.Bool => TensorContents.FromBools(name, shape, count, c.BoolContents),
            ElementKind.Int8 or ElementKind.Int16 or ElementKind.Int32 =>
                TensorContents.FromIntegers(name, input.Datatype, kind, shape, count, c.IntContents.Select(v => (long)v).ToList()),
            ElementKind.Int64 => TensorContents.FromIntegers(name, input.Datatype, kind, shape, count, c.Int64Contents),
            ElementKind.UInt8 or ElementKind.UInt16 or ElementKind.UInt32 =>
                TensorContents.FromUnsigned(name, input.Datatype, kind, shape, count, c.UintContents.Select(v => (ulong)v).ToList()),
            ElementKind.UInt64 => TensorContents.FromUnsigned(name, input.Datatype, kind, shape, count, c.Uint64Contents),
            ElementKind.Float32 => TensorContents.FromFloats(name, shape, count, c.Fp32Contents),
            ElementKind.Float64 => TensorContents.FromDoubles(name, shape, count, c.Fp64Contents),
            ElementKind.String => TensorContents.FromStrings(name, shape, count, c.BytesContents.Select(b => b.Memory).ToList()),
            // FP16 has no typed list: an input with no values is an empty tensor, anything else must be raw.
            _ when count == 0 => new TensorData(kind, shape, ElementKinds.NewArray(kind, 0)),
            _ => throw TensorContents.WrongList(name, input.Datatype, kind, "no raw_input_contents"),
        };
    }

    /// <summary>The first typed list that holds values (other than <paramref name="except"/>), as its name.</summary>
    private static string? Given(InferTensorContents? c, string? except = null)
    {
        if (c == null) return null;
        (string Field, int Count)[] lists =
        [
            ("bool_contents", c.BoolContents.Count), ("int_contents", c.IntContents.Count), ("int64_contents", c.Int64Contents.Count),
            ("uint_contents", c.UintContents.Count), ("uint64_contents", c.Uint64Contents.Count), ("fp32_contents", c.Fp32Contents.Count),
            ("fp64_contents", c.Fp64Contents.Count), ("bytes_contents", c.BytesContents.Count),
        ];
        return lists.FirstOrDefault(l => l.Count > 0 && l.Field != except).Field;
    }

    /// <summary><c>parameters.content_type</c>, which must be a string where given.</summary>
    private static string? ContentType(MapField<string, InferParameter> parameters, string whose)
    {
        if (!parameters.TryGetValue("content_type", out var p) || p.ParameterChoiceCase == InferParameter.ParameterChoiceOneofCase.None) return null;
        return p.ParameterChoiceCase == InferParameter.ParameterChoiceOneofCase.StringParam
            ? p.StringParam
            : throw OpenInferenceException.BadRequest($"{whose} parameters.content_type must be a string_param.");
    }

    /// <summary>The request's parameters other than the protocol's own, as the model's params.</summary>
    private static Dictionary<string, object?>? Params(MapField<string, InferParameter> parameters)
    {
        Dictionary<string, object?>? given = null;
        foreach (var (key, p) in parameters)
        {
            if (key is "content_type" or "headers") continue;
            (given ??= new(StringComparer.Ordinal))[key] = p.ParameterChoiceCase switch
            {
                InferParameter.ParameterChoiceOneofCase.BoolParam => p.BoolParam,
                InferParameter.ParameterChoiceOneofCase.Int64Param => p.Int64Param,
                InferParameter.ParameterChoiceOneofCase.StringParam => p.StringParam,
                InferParameter.ParameterChoiceOneofCase.DoubleParam => p.DoubleParam,
                InferParameter.ParameterChoiceOneofCase.Uint64Param => p.Uint64Param <= long.MaxValue ? (long)p.Uint64Param : (double)p.Uint64Param,
                _ => null,
            };
        }
        return given;
    }

    private static List<string>? Outputs(ModelInferRequest request)
    {
        if (request.Outputs.Count == 0) return null;
        var names = new List<string>();
        foreach (var o in request.Outputs)
        {
            if (string.IsNullOrEmpty(o.Name)) throw OpenInferenceException.BadRequest("A requested output has no \"name\".");
            if (!names.Contains(o.Name)) names.Add(o.Name);
        }
        return names;
    }

    private static ModelInferResponse Answer(InferenceResponse response, bool raw)
    {
        var answer = new ModelInferResponse { ModelName = response.ModelName, ModelVersion = response.ModelVersion ?? "", Id = response.Id ?? "" };
        if (response.Parameters != null)
            foreach (var (k, v) in response.Parameters) answer.Parameters[k] = new InferParameter { StringParam = v };
        raw |= response.Outputs.Any(o => o.Datatype == "FP16");
        foreach (var output in response.Outputs)
        {
            var tensor = new ModelInferResponse.Types.InferOutputTensor { Name = output.Name, Datatype = output.Datatype };
            tensor.Shape.AddRange(output.Shape);
            if (output.Parameters != null)
                foreach (var (k, v) in output.Parameters) tensor.Parameters[k] = new InferParameter { StringParam = v };
            if (raw) answer.RawOutputContents.Add(UnsafeByteOperations.UnsafeWrap(TensorContents.ToRaw(output)));
            else tensor.Contents = Contents(output);
            answer.Outputs.Add(tensor);
        }
        return answer;
    }

    private static InferTensorContents Contents(ResponseOutput output)
    {
        if (!TensorDatatypes.TryParse(output.Datatype, out var kind)) throw new InvalidOperationException($"No datatype '{output.Datatype}'.");
        var c = new InferTensorContents();
        if (kind == ElementKind.String)
        {
            var values = output.Data.Values;
            for (int i = 0; i < values.Length; i++)
            {
                var missing = output.Data.Missing is { } m && m[i];
                c.BytesContents.Add(missing ? ByteString.Empty : ByteString.CopyFromUtf8(values.GetValue(i) as string ?? ""));
            }
            return c;
        }
        var typed = TensorContents.Typed(output, kind);
        // By kind: the runtime lets a byte[] pass as an sbyte[] (and so on), so an array-type switch would mix them up.
        switch (kind)
        {
            case ElementKind.Bool: c.BoolContents.AddRange((bool[])typed); break;
            case ElementKind.Int8: c.IntContents.AddRange(((sbyte[])typed).Select(x => (int)x)); break;
            case ElementKind.Int16: c.IntContents.AddRange(((short[])typed).Select(x => (int)x)); break;
            case ElementKind.Int32: c.IntContents.AddRange((int[])typed); break;
            case ElementKind.Int64: c.Int64Contents.AddRange((long[])typed); break;
            case ElementKind.UInt8: c.UintContents.AddRange(((byte[])typed).Select(x => (uint)x)); break;
            case ElementKind.UInt16: c.UintContents.AddRange(((ushort[])typed).Select(x => (uint)x)); break;
            case ElementKind.UInt32: c.UintContents.AddRange((uint[])typed); break;
            case ElementKind.UInt64: c.Uint64Contents.AddRange((ulong[])typed); break;
            case ElementKind.Float32: c.Fp32Contents.AddRange((float[])typed); break;
            case ElementKind.Float64: c.Fp64Contents.AddRange((double[])typed); break;
            default: throw new InvalidOperationException($"The output '{output.Name}' of datatype {output.Datatype} has no typed list.");
        }
        return c;
    }

    /// <summary>A failure's HTTP status as the protocol's gRPC code; the message is the REST endpoint's.</summary>
    public static RpcException Failure(int status, string message) => new(new Status(CodeOf(status), message));

    public static StatusCode CodeOf(int status) => status switch
    {
        400 => StatusCode.InvalidArgument,
        401 => StatusCode.Unauthenticated,
        403 => StatusCode.PermissionDenied,
        404 => StatusCode.NotFound,
        413 => StatusCode.ResourceExhausted,
        503 => StatusCode.Unavailable,
        504 => StatusCode.DeadlineExceeded,
        _ => StatusCode.Internal,
    };
}
