using System.Text.Json.Serialization;

namespace MlModels.Deploy.AzureML;

// Request and response bodies of the Microsoft.MachineLearningServices 2025-12-01 operations this module calls,
// named after the swagger's definitions. Only the fields the module reads or writes are declared.

public sealed record ArmError(string? Code, string? Message, string? Target, IReadOnlyList<ArmError>? Details);

public sealed record ArmErrorResponse(ArmError? Error);

/// <summary>What an Azure-AsyncOperation URL answers.</summary>
public sealed record AsyncOperationStatus(string? Status, ArmError? Error);

public sealed record WorkspaceResource(string? Id, string? Name, string? Location, WorkspaceProperties? Properties);

public sealed record WorkspaceProperties(
    string? FriendlyName,
    string? DiscoveryUrl,
    string? MlFlowTrackingUri,
    string? WorkspaceId,
    string? ProvisioningState);

public sealed record DatastoreList(IReadOnlyList<DatastoreResource>? Value, string? NextLink);

public sealed record DatastoreResource(string? Id, string? Name, DatastoreProperties? Properties);

public sealed record DatastoreProperties(
    string? DatastoreType, string? AccountName, string? ContainerName, string? Endpoint, string? Protocol, bool? IsDefault,
    DatastoreCredentials? Credentials, string? ServiceDataAccessAuthIdentity);

public sealed record DatastoreCredentials(string? CredentialsType);

/// <summary>Datastores_ListSecrets: the discriminator and, by variant, an account key or a SAS token.</summary>
public sealed record DatastoreSecrets(string? SecretsType, string? Key, string? SasToken);

public sealed record FlavorData(IReadOnlyDictionary<string, string>? Data);

public sealed record ModelVersionProperties(
    string? ModelType, string? ModelUri, string? Description = null, IReadOnlyDictionary<string, string>? Tags = null,
    IReadOnlyDictionary<string, string>? Properties = null, IReadOnlyDictionary<string, FlavorData>? Flavors = null);

public sealed record ModelVersionResource(ModelVersionProperties Properties, string? Id = null, string? Name = null);

public sealed record OnlineEndpointProperties(
    string AuthMode, string? Description = null, IReadOnlyDictionary<string, int>? Traffic = null,
    string? ProvisioningState = null, string? ScoringUri = null, string? SwaggerUri = null);

public sealed record ResourceIdentity(string Type, string? PrincipalId = null, string? TenantId = null);

public sealed record OnlineEndpointResource(
    string Location, OnlineEndpointProperties Properties, string? Id = null, string? Name = null,
    ResourceIdentity? Identity = null, string? Kind = null, IReadOnlyDictionary<string, string>? Tags = null);

public sealed record ScaleSettings(string ScaleType);

/// <summary>CodeVersions_CreateOrUpdate: a scoring script's folder in storage.</summary>
public sealed record CodeVersionProperties(string CodeUri, string? Description = null);

public sealed record CodeVersionResource(CodeVersionProperties Properties, string? Id = null, string? Name = null);

/// <summary>EnvironmentVersions_CreateOrUpdate: a base image with a conda file laid over it.</summary>
/// <remarks>No osType: Linux is the service's default, and Microsoft's examples (which the tests' ARM fake holds requests to) send none.</remarks>
public sealed record EnvironmentVersionProperties(string? Image, string? CondaFile, string? Description = null);

public sealed record EnvironmentVersionResource(EnvironmentVersionProperties Properties, string? Id = null, string? Name = null);

public sealed record CodeConfiguration(string? CodeId, string ScoringScript);

public sealed record DeploymentSku(string Name, int? Capacity = null, string? Tier = null);

public sealed record OnlineDeploymentProperties(
    string EndpointComputeType, string? Model = null, string? InstanceType = null, ScaleSettings? ScaleSettings = null,
    CodeConfiguration? CodeConfiguration = null, string? EnvironmentId = null, IReadOnlyDictionary<string, string>? EnvironmentVariables = null,
    string? Description = null, string? ProvisioningState = null);

public sealed record OnlineDeploymentResource(
    string Location, OnlineDeploymentProperties Properties, DeploymentSku? Sku = null, string? Id = null, string? Name = null,
    string? Kind = null, IReadOnlyDictionary<string, string>? Tags = null);

public sealed record DeploymentLogsRequest(string? ContainerType, int? Tail);

public sealed record DeploymentLogs(string? Content);

public sealed record EndpointAuthKeys(string? PrimaryKey, string? SecondaryKey);

public sealed record EndpointAuthToken(string? AccessToken, string? TokenType, long? ExpiryTimeUtc, long? RefreshAfterTimeUtc);

public sealed record BatchEndpointDefaults(string? DeploymentName);

public sealed record BatchEndpointProperties(
    string AuthMode, string? Description = null, BatchEndpointDefaults? Defaults = null, string? ProvisioningState = null, string? ScoringUri = null);

public sealed record BatchEndpointResource(
    string Location, BatchEndpointProperties Properties, string? Id = null, string? Name = null, IReadOnlyDictionary<string, string>? Tags = null);

public sealed record AssetReference(string ReferenceType, string? AssetId);

public sealed record BatchResources(int? InstanceCount, string? InstanceType = null);

public sealed record BatchDeploymentProperties(
    string? Compute = null, AssetReference? Model = null, BatchResources? Resources = null, int? MiniBatchSize = null,
    int? MaxConcurrencyPerInstance = null, string? OutputAction = null, string? OutputFileName = null, int? ErrorThreshold = null,
    string? Description = null, string? ProvisioningState = null);

public sealed record BatchDeploymentResource(
    string Location, BatchDeploymentProperties Properties, string? Id = null, string? Name = null, IReadOnlyDictionary<string, string>? Tags = null);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ArmErrorResponse))]
[JsonSerializable(typeof(AsyncOperationStatus))]
[JsonSerializable(typeof(WorkspaceResource))]
[JsonSerializable(typeof(DatastoreList))]
[JsonSerializable(typeof(DatastoreSecrets))]
[JsonSerializable(typeof(ModelVersionResource))]
[JsonSerializable(typeof(CodeVersionResource))]
[JsonSerializable(typeof(EnvironmentVersionResource))]
[JsonSerializable(typeof(OnlineEndpointResource))]
[JsonSerializable(typeof(OnlineDeploymentResource))]
[JsonSerializable(typeof(DeploymentLogsRequest))]
[JsonSerializable(typeof(DeploymentLogs))]
[JsonSerializable(typeof(EndpointAuthKeys))]
[JsonSerializable(typeof(EndpointAuthToken))]
[JsonSerializable(typeof(BatchEndpointResource))]
[JsonSerializable(typeof(BatchDeploymentResource))]
[JsonSerializable(typeof(BatchJobRequest))]
[JsonSerializable(typeof(BatchJobResource))]
[JsonSerializable(typeof(EmptyBody))]
[JsonSerializable(typeof(ModelVersionList))]
[JsonSerializable(typeof(OnlineEndpointList))]
[JsonSerializable(typeof(OnlineDeploymentList))]
public sealed partial class AzureMLJson : JsonSerializerContext;

/// <summary>The body of a POST that takes none.</summary>
public sealed record EmptyBody;

/// <summary>The body a batch endpoint's scoring URI takes to start a job (Azure ML's documented REST invocation).</summary>
public sealed record BatchJobRequest([property: JsonPropertyName("properties")] BatchJobRequestProperties Properties);

public sealed record BatchJobRequestProperties(
    [property: JsonPropertyName("InputData")] IReadOnlyDictionary<string, BatchJobInput> InputData,
    [property: JsonPropertyName("OutputDatasets")] IReadOnlyDictionary<string, BatchJobInput>? OutputData = null);

public sealed record BatchJobInput(
    [property: JsonPropertyName("JobInputType")] string JobInputType,
    [property: JsonPropertyName("Uri")] string Uri);

/// <summary>A job as Jobs_Get (and the batch invocation) answers it.</summary>
public sealed record BatchJobResource(string? Id, string? Name, BatchJobProperties? Properties);

public sealed record BatchJobProperties(string? Status, string? JobType, string? DisplayName, string? ExperimentName, string? Description);

public sealed record ModelVersionList(IReadOnlyList<ModelVersionResource>? Value, string? NextLink);

public sealed record OnlineEndpointList(IReadOnlyList<OnlineEndpointResource>? Value, string? NextLink);

public sealed record OnlineDeploymentList(IReadOnlyList<OnlineDeploymentResource>? Value, string? NextLink);
