using System.Text.Json.Serialization;

namespace MlModels.Core.Tracking;

// MLflow REST API 2.0 messages (mlflow/protos/service.proto, model_registry.proto), as the server writes them:
// snake_case, ids and versions as strings, times as integers in milliseconds, unset fields left out.

public sealed record TagEntry(string Key, string Value);

public sealed record Experiment(
    string ExperimentId, string Name, string? ArtifactLocation = null, string? LifecycleStage = null,
    long? LastUpdateTime = null, long? CreationTime = null, IReadOnlyList<TagEntry>? Tags = null);

public sealed record RunInfo(
    string RunId, string ExperimentId, string? RunUuid = null, string? RunName = null, string? UserId = null, string? Status = null,
    long? StartTime = null, long? EndTime = null, string? ArtifactUri = null, string? LifecycleStage = null);

/// <summary>A run's metric as the server answers it; NaN as "NaN" (protobuf's JSON mapping, as MLflow writes it).</summary>
public sealed record Metric(
    string Key,
    [property: JsonNumberHandling(JsonNumberHandling.AllowReadingFromString | JsonNumberHandling.AllowNamedFloatingPointLiterals)]
    double Value,
    long? Timestamp = null,
    long? Step = null);

/// <summary>
/// One metric value to log (runs/log-batch): its key, value, time in milliseconds since the epoch and step. NaN and the
/// infinities go as "NaN", "Infinity" and "-Infinity", as MLflow's client sends them (protobuf's JSON mapping of a double).
/// </summary>
public sealed record MetricValue(
    string Key,
    [property: JsonNumberHandling(JsonNumberHandling.AllowReadingFromString | JsonNumberHandling.AllowNamedFloatingPointLiterals)]
    double Value,
    long Timestamp,
    long Step = 0);

public sealed record Param(string Key, string Value);
public sealed record RunData(IReadOnlyList<Metric>? Metrics = null, IReadOnlyList<Param>? Params = null, IReadOnlyList<TagEntry>? Tags = null);
public sealed record Run(RunInfo Info, RunData? Data = null);

public sealed record ArtifactFile(string Path, bool IsDir = false, long? FileSize = null);

public sealed record RegisteredModelAlias(string Alias, string Version);

public sealed record RegisteredModel(
    string Name, long? CreationTimestamp = null, long? LastUpdatedTimestamp = null, string? Description = null,
    IReadOnlyList<ModelVersion>? LatestVersions = null, IReadOnlyList<TagEntry>? Tags = null, IReadOnlyList<RegisteredModelAlias>? Aliases = null);

/// <summary>A registered model version, as the registry answers it (the object the registry cmdlets return).</summary>
public sealed record ModelVersion(
    string Name, string Version, long? CreationTimestamp = null, long? LastUpdatedTimestamp = null, string? CurrentStage = null,
    string? Description = null, string? Source = null, string? RunId = null, string? Status = null, string? StatusMessage = null,
    IReadOnlyList<TagEntry>? Tags = null, string? RunLink = null, IReadOnlyList<string>? Aliases = null, string? UserId = null)
{
    /// <summary>The tracking server the version was read from (not part of MLflow's message).</summary>
    [JsonIgnore] public string? TrackingUri { get; init; }
    [JsonIgnore] public DateTime? Created => CreationTimestamp is { } t ? DateTimeOffset.FromUnixTimeMilliseconds(t).UtcDateTime : null;
    [JsonIgnore] public DateTime? LastUpdated => LastUpdatedTimestamp is { } t ? DateTimeOffset.FromUnixTimeMilliseconds(t).UtcDateTime : null;
    /// <summary>The version's model URI, <c>models:/name/version</c>.</summary>
    [JsonIgnore] public string ModelUri => $"models:/{Name}/{Version}";
    [JsonIgnore] public IReadOnlyDictionary<string, string> TagTable => (Tags ?? []).ToDictionary(t => t.Key, t => t.Value, StringComparer.Ordinal);
}

// Requests.
public sealed record CreateExperimentRequest(string Name);
public sealed record CreateRunRequest(string ExperimentId, string? UserId, string? RunName, long StartTime, IReadOnlyList<TagEntry> Tags);
public sealed record UpdateRunRequest(string RunUuid, string Status, long EndTime, string RunId);
public sealed record LogModelRequest(string RunId, string ModelJson);

/// <summary>runs/log-batch; an empty list is left out, as MLflow's client (protobuf's JSON) leaves it out.</summary>
public sealed record LogBatchRequest(
    string RunId, IReadOnlyList<MetricValue>? Metrics = null, IReadOnlyList<Param>? Params = null, IReadOnlyList<TagEntry>? Tags = null);
public sealed record CreateRegisteredModelRequest(string Name);
public sealed record CreateModelVersionRequest(string Name, string Source, string? RunId);
public sealed record SetAliasRequest(string Name, string Alias, string Version);
public sealed record DeleteAliasRequest(string Name, string Alias);
public sealed record GetLatestVersionsRequest(string Name, IReadOnlyList<string>? Stages);
public sealed record SetModelVersionTagRequest(string Name, string Version, string Key, string Value);
public sealed record DeleteModelVersionTagRequest(string Name, string Version, string Key);
public sealed record SetRegisteredModelTagRequest(string Name, string Key, string Value);
public sealed record DeleteRegisteredModelTagRequest(string Name, string Key);
public sealed record TransitionStageRequest(string Name, string Version, string Stage, bool ArchiveExistingVersions);
public sealed record UpdateModelVersionRequest(string Name, string Version, string Description);
public sealed record DeleteModelVersionRequest(string Name, string Version);

// Responses.
public sealed record ErrorResponse(string? ErrorCode, string? Message);
public sealed record ExperimentResponse(Experiment Experiment);
public sealed record CreateExperimentResponse(string ExperimentId);
public sealed record RunResponse(Run Run);
public sealed record UpdateRunResponse(RunInfo RunInfo);
public sealed record ListArtifactsResponse(string? RootUri = null, IReadOnlyList<ArtifactFile>? Files = null);
public sealed record RegisteredModelResponse(RegisteredModel RegisteredModel);
public sealed record ModelVersionResponse(ModelVersion ModelVersion);
public sealed record DownloadUriResponse(string ArtifactUri);
public sealed record ModelVersionsResponse(IReadOnlyList<ModelVersion>? ModelVersions = null, string? NextPageToken = null);
public sealed record RegisteredModelsResponse(IReadOnlyList<RegisteredModel>? RegisteredModels = null, string? NextPageToken = null);
public sealed record EmptyResponse;

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    NumberHandling = JsonNumberHandling.AllowReadingFromString)]
[JsonSerializable(typeof(ErrorResponse))]
[JsonSerializable(typeof(ExperimentResponse))]
[JsonSerializable(typeof(CreateExperimentResponse))]
[JsonSerializable(typeof(RunResponse))]
[JsonSerializable(typeof(UpdateRunResponse))]
[JsonSerializable(typeof(ListArtifactsResponse))]
[JsonSerializable(typeof(RegisteredModelResponse))]
[JsonSerializable(typeof(ModelVersionResponse))]
[JsonSerializable(typeof(DownloadUriResponse))]
[JsonSerializable(typeof(ModelVersionsResponse))]
[JsonSerializable(typeof(RegisteredModelsResponse))]
[JsonSerializable(typeof(EmptyResponse))]
[JsonSerializable(typeof(CacheRecord))]
[JsonSerializable(typeof(CreateExperimentRequest))]
[JsonSerializable(typeof(CreateRunRequest))]
[JsonSerializable(typeof(UpdateRunRequest))]
[JsonSerializable(typeof(LogModelRequest))]
[JsonSerializable(typeof(LogBatchRequest))]
[JsonSerializable(typeof(CreateRegisteredModelRequest))]
[JsonSerializable(typeof(CreateModelVersionRequest))]
[JsonSerializable(typeof(SetAliasRequest))]
[JsonSerializable(typeof(DeleteAliasRequest))]
[JsonSerializable(typeof(GetLatestVersionsRequest))]
[JsonSerializable(typeof(SetModelVersionTagRequest))]
[JsonSerializable(typeof(DeleteModelVersionTagRequest))]
[JsonSerializable(typeof(TransitionStageRequest))]
[JsonSerializable(typeof(SetRegisteredModelTagRequest))]
[JsonSerializable(typeof(DeleteRegisteredModelTagRequest))]
[JsonSerializable(typeof(UpdateModelVersionRequest))]
[JsonSerializable(typeof(DeleteModelVersionRequest))]
internal sealed partial class TrackingJson : JsonSerializerContext;
