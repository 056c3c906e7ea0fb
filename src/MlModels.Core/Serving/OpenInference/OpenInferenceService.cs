using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using MlModels.Core.Format;
using MlModels.Core.Scoring;
using MlModels.Core.Scoring.Python;

namespace MlModels.Core.Serving.OpenInference;

/// <summary>
/// The Open Inference Protocol's REST endpoints (KServe V2) for the server's one model, translated onto the same
/// scoring path as MLflow's: health, server and model metadata, model readiness and inference. The model's name is the
/// server's setting (the folder's name by default), its version the registry version it came from, else "1".
/// </summary>
public sealed class OpenInferenceService
{
    public const string ServerName = "mlmodels";
    public const string Platform = "mlflow";

    private readonly ScoringService _scoring;
    private readonly Action<string>? _log;

    public OpenInferenceService(ScoringService scoring, string? modelName = null, Action<string>? log = null, string? modelVersion = null)
    {
        ArgumentNullException.ThrowIfNull(scoring);
        _scoring = scoring;
        _log = log;
        ModelName = string.IsNullOrEmpty(modelName) ? scoring.Model.Name : modelName;
        ModelVersion = scoring.Model.Origin?.Version is { Length: > 0 } v ? v : string.IsNullOrEmpty(modelVersion) ? "1" : modelVersion;
    }

    public string ModelName { get; }
    public string ModelVersion { get; }

    public static ServingResponse Live() => Json(200, new ServerLive(true), OpenInferenceJson.Default.ServerLive);

    public ServingResponse Ready() => Json(_scoring.Ready ? 200 : 503, new ServerReady(_scoring.Ready), OpenInferenceJson.Default.ServerReady);

    public static ServingResponse ServerMetadata() => Json(200, Server, OpenInferenceJson.Default.ServerMetadata);

    /// <summary>The server's metadata: its name, version and extensions (none).</summary>
    public static ServerMetadata Server { get; } =
        new(ServerName, ModuleVersion.Full, []);

    /// <summary>The model's metadata: its name, version, platform, and the signature's tensors with their datatypes.</summary>
    public ModelMetadata Metadata
    {
        get
        {
            var signature = _scoring.Model.Signature;
            return new ModelMetadata(ModelName, [ModelVersion], Platform,
                TensorDatatypes.Metadata(signature?.Inputs, "input-"), TensorDatatypes.Metadata(signature?.Outputs, "output-"));
        }
    }

    public bool IsReady => _scoring.Ready;

    public ServingResponse ModelMetadata(string name, string? version) =>
        NotFound(name, version) ?? Json(200, Metadata, OpenInferenceJson.Default.ModelMetadata);

    public ServingResponse ModelReady(string name, string? version) =>
        NotFound(name, version) ?? Json(_scoring.Ready ? 200 : 503, new ModelReady(ModelName, _scoring.Ready), OpenInferenceJson.Default.ModelReady);

    /// <summary>
    /// POST <c>/v2/models/NAME[/versions/VERSION]/infer</c>: API key and announced length first (as MLflow's
    /// endpoints), then the body read whole, decoded, scored and encoded. Every failure is <c>{"error": ...}</c>.
    /// </summary>
    public async Task<ServingResponse> InferAsync(string name, string? version, Stream body, long? contentLength, string? apiKey,
        string? authorization, CancellationToken aborted)
    {
        var start = Stopwatch.GetTimestamp();
        var response = await InferJsonAsync(name, version, body, contentLength, apiKey, authorization, aborted).ConfigureAwait(false);
        _scoring.Metrics.Record(response.Status, Stopwatch.GetElapsedTime(start));
        return response;
    }

    /// <summary>
    /// One inference call decoded by its transport (gRPC): the same checks, scoring and encoding as the REST endpoint,
    /// answered as an outcome the transport writes in its own form.
    /// </summary>
    public async Task<InferenceOutcome> InferAsync(string name, string? version, InferenceCall call, string? apiKey, string? authorization,
        CancellationToken aborted)
    {
        ArgumentNullException.ThrowIfNull(call);
        var start = Stopwatch.GetTimestamp();
        InferenceOutcome outcome;
        if (_scoring.Refusal(apiKey, authorization, call.Size) is { } refused) outcome = Failure(Translate(refused));
        else if (NotFound(name, version) is { } missing) outcome = Failure(missing);
        else outcome = await RunAsync(call, aborted).ConfigureAwait(false);
        _scoring.Metrics.Record(outcome.Status, Stopwatch.GetElapsedTime(start));
        return outcome;
    }

    private async Task<ServingResponse> InferJsonAsync(string name, string? version, Stream body, long? contentLength, string? apiKey,
        string? authorization, CancellationToken aborted)
    {
        if (_scoring.Refusal(apiKey, authorization, contentLength) is { } refused) return Translate(refused);
        if (NotFound(name, version) is { } missing) return missing;
        var buffer = new MemoryStream();
        try { await body.CopyToAsync(buffer, aborted).ConfigureAwait(false); }
        catch (RequestBodyException ex) { return Translate(_scoring.UnreadableBody(ex.Status, ex.Message)); }
        catch (IOException ex) { return Translate(_scoring.UnreadableBody(400, ex.Message)); }

        InferenceRequest? request;
        try { request = JsonSerializer.Deserialize(buffer.GetBuffer().AsSpan(0, (int)buffer.Length), OpenInferenceJson.Default.InferenceRequest); }
        catch (JsonException ex) { return Error(400, $"The request body is not an inference request: {ex.Message}"); }
        if (request == null) return Error(400, "The request body is not an inference request: it is null.");
        InferenceCall call;
        try
        {
            call = new InferenceCall(request.Id, () => DecodeInputs(request), InferenceDecoder.ContentTypeOf(request.Parameters),
                Params(request.Parameters), Wanted(request), buffer.Length);
        }
        catch (OpenInferenceException ex) { return Error(ex.Status, ex.Message); }
        var outcome = await RunAsync(call, aborted).ConfigureAwait(false);
        return outcome.Response is { } answer
            ? Json(200, answer, OpenInferenceJson.Default.InferenceResponse)
            : Error(outcome.Status, outcome.Error ?? "");
    }

    private static List<KeyValuePair<string, TensorData>> DecodeInputs(InferenceRequest request)
    {
        if (request.Inputs is not { Count: > 0 } inputs) throw OpenInferenceException.BadRequest("The request has no \"inputs\".");
        var tensors = new List<KeyValuePair<string, TensorData>>(inputs.Count);
        foreach (var input in inputs)
        {
            var (name, tensor) = InferenceDecoder.DecodeInput(input);
            tensors.Add(KeyValuePair.Create(name, tensor));
        }
        return tensors;
    }

    /// <summary>Decodes, scores and encodes one call; every failure becomes its status and message (400, 503, 504, 500).</summary>
    private async Task<InferenceOutcome> RunAsync(InferenceCall call, CancellationToken aborted)
    {
        try
        {
            var prediction = await _scoring.PredictAsync((scorer, ct) =>
            {
                var input = InferenceDecoder.Assemble(scorer, call.Inputs(), call.ContentType, _log);
                return scorer.Predict(input, PredictionEngine.ParamsFor(scorer.Model, null, call.Parameters, _log), ct);
            }, aborted, call.Size).ConfigureAwait(false);
            var (outputs, contentType) = InferenceEncoder.Encode(prediction);
            if (call.Outputs != null)
            {
                var unknown = call.Outputs.Where(w => outputs.All(o => o.Name != w)).ToList();
                if (unknown.Count > 0)
                    return Failure(400, $"The model has no output {ColumnPlan.PyList(unknown)}; its outputs are " +
                        $"{ColumnPlan.PyList(outputs.Select(o => o.Name))}.");
                outputs = call.Outputs.Select(w => outputs.First(o => o.Name == w)).ToList();
            }
            return new InferenceOutcome(200, null, new InferenceResponse(ModelName, ModelVersion, call.Id,
                contentType == null ? null : new() { ["content_type"] = contentType }, outputs));
        }
        catch (OpenInferenceException ex) { return Failure(ex.Status, ex.Message); }
        catch (SchemaViolationException ex) { return Failure(400, ex.Message); }
        catch (ModelPredictionException ex) { return Failure(400, "The model failed on this input: " + ex.Message); }
        catch (MLModelFormatException ex) { return Failure(400, ex.Message); }
        catch (TimeoutException ex) { return Failure(504, ex.Message); }
        catch (ScorerUnavailableException ex) { return Failure(503, ex.Message); }
        catch (PythonWorkerException ex) when (ex.Kind == PythonWorkerFailure.Timeout) { return Failure(504, ex.Message); }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested) { throw; }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            _log?.Invoke($"open inference request failed: {ex}");
            return Failure(500, ex.Message);
        }
    }

    private static InferenceOutcome Failure(int status, string message) => new(status, message, null);

    private static InferenceOutcome Failure(ServingResponse error)
    {
        using var doc = JsonDocument.Parse(error.Body);
        return Failure(error.Status, doc.RootElement.GetProperty("error").GetString() ?? "");
    }

    /// <summary>The names of the outputs asked for, or null for all.</summary>
    private static List<string>? Wanted(InferenceRequest request)
    {
        if (request.Outputs == null) return null;
        var names = new List<string>();
        foreach (var o in request.Outputs)
        {
            if (o == null || string.IsNullOrEmpty(o.Name)) throw OpenInferenceException.BadRequest("A requested output has no \"name\".");
            if (!names.Contains(o.Name)) names.Add(o.Name);
        }
        return names;
    }

    /// <summary>
    /// The request's parameters other than the protocol's own (<c>content_type</c>, <c>headers</c>): the model's params,
    /// as MLServer's MLflow runtime passes them.
    /// </summary>
    public static Dictionary<string, object?>? Params(Dictionary<string, JsonElement>? parameters)
    {
        if (parameters == null) return null;
        var given = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (key, value) in parameters)
            if (key is not ("content_type" or "headers"))
                given[key] = PyJson.ToPlain(System.Text.Json.Nodes.JsonNode.Parse(value.GetRawText()));
        return given.Count == 0 ? null : given;
    }

    private ServingResponse? NotFound(string name, string? version) => Unknown(name, version) is { } message ? Error(404, message) : null;

    /// <summary>Why a model name and version are not this server's (404 / NOT_FOUND), or null where they are.</summary>
    public string? Unknown(string name, string? version)
    {
        if (name != ModelName) return $"Model '{name}' not found; this server serves '{ModelName}'.";
        if (version != null && version != ModelVersion) return $"Model '{name}' has no version '{version}'; it has version '{ModelVersion}'.";
        return null;
    }

    /// <summary>A refusal of the shared checks (MLflow's error body) as this protocol's <c>{"error": ...}</c>, status kept.</summary>
    private static ServingResponse Translate(ServingResponse mlflow)
    {
        string message;
        try
        {
            using var doc = JsonDocument.Parse(mlflow.Body);
            message = doc.RootElement.TryGetProperty("message", out var m) ? m.GetString() ?? "" : doc.RootElement.GetRawText();
        }
        catch (JsonException) { message = System.Text.Encoding.UTF8.GetString(mlflow.Body); }
        return Error(mlflow.Status, message);
    }

    public static ServingResponse Error(int status, string message) =>
        Json(status, new ErrorResponse(message), OpenInferenceJson.Default.ErrorResponse);

    private static ServingResponse Json<T>(int status, T value, JsonTypeInfo<T> type) =>
        new(status, "application/json", JsonSerializer.SerializeToUtf8Bytes(value, type));
}

/// <summary>
/// One inference call as its transport decoded it: the inputs (decoded when the scorer is ready, on the scoring
/// thread), the request's content type, the model's params, the outputs asked for (null: all), and its size in bytes.
/// </summary>
public sealed record InferenceCall(string? Id, Func<List<KeyValuePair<string, TensorData>>> Inputs, string? ContentType,
    Dictionary<string, object?>? Parameters, IReadOnlyList<string>? Outputs, long Size);

/// <summary>An inference call's answer: the response (status 200), or the status and message of its failure.</summary>
public sealed record InferenceOutcome(int Status, string? Error, InferenceResponse? Response);
