using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace MlModels.Deploy.SageMaker;

// Request and response shapes of the SageMaker (2017-07-24) and ECR (2015-09-21) operations this module calls,
// after the service models in tests/specs/aws: only the members used. Names follow the operations.

public sealed record Tag(string Key, string Value);

public sealed record ContainerDefinition
{
    public string? Image { get; init; }
    public string? ModelDataUrl { get; init; }
    /// <summary>Model data read in place from S3 (uncompressed files under a prefix) instead of a model.tar.gz.</summary>
    public ModelDataSource? ModelDataSource { get; init; }
    public Dictionary<string, string>? Environment { get; init; }
}

public sealed record ModelDataSource(S3ModelDataSource S3DataSource);

/// <summary>S3DataType S3Prefix with CompressionType None: the files under the prefix are the model folder, as they are.</summary>
public sealed record S3ModelDataSource(string S3Uri, string S3DataType, string CompressionType);

public sealed record VpcConfig
{
    public required List<string> SecurityGroupIds { get; init; }
    public required List<string> Subnets { get; init; }
}

public sealed record CreateModelRequest
{
    public required string ModelName { get; init; }
    public ContainerDefinition? PrimaryContainer { get; init; }
    public string? ExecutionRoleArn { get; init; }
    public List<Tag>? Tags { get; init; }
    public VpcConfig? VpcConfig { get; init; }
}

public sealed record CreateModelResponse(string ModelArn);

public sealed record DescribeModelRequest(string ModelName);

public sealed record DescribeModelResponse
{
    public string? ModelName { get; init; }
    public string? ModelArn { get; init; }
    public ContainerDefinition? PrimaryContainer { get; init; }
    public string? ExecutionRoleArn { get; init; }
    [JsonConverter(typeof(EpochSecondsConverter))]
    public DateTimeOffset? CreationTime { get; init; }
}

public sealed record DeleteModelRequest(string ModelName);

public sealed record ServerlessConfig
{
    public required int MemorySizeInMB { get; init; }
    public required int MaxConcurrency { get; init; }
    public int? ProvisionedConcurrency { get; init; }
}

public sealed record ProductionVariant
{
    public required string VariantName { get; init; }
    public string? ModelName { get; init; }
    public int? InitialInstanceCount { get; init; }
    public string? InstanceType { get; init; }
    public float? InitialVariantWeight { get; init; }
    public ServerlessConfig? ServerlessConfig { get; init; }
}

public sealed record CaptureOption(string CaptureMode);

public sealed record CaptureContentTypeHeader
{
    public List<string>? CsvContentTypes { get; init; }
    public List<string>? JsonContentTypes { get; init; }
}

public sealed record DataCaptureConfig
{
    public bool? EnableCapture { get; init; }
    public required int InitialSamplingPercentage { get; init; }
    public required string DestinationS3Uri { get; init; }
    public string? KmsKeyId { get; init; }
    public required List<CaptureOption> CaptureOptions { get; init; }
    public CaptureContentTypeHeader? CaptureContentTypeHeader { get; init; }
}

public sealed record AsyncInferenceClientConfig
{
    public int? MaxConcurrentInvocationsPerInstance { get; init; }
}

public sealed record AsyncInferenceNotificationConfig
{
    public string? SuccessTopic { get; init; }
    public string? ErrorTopic { get; init; }
    public List<string>? IncludeInferenceResponseIn { get; init; }
}

public sealed record AsyncInferenceOutputConfig
{
    public string? KmsKeyId { get; init; }
    public string? S3OutputPath { get; init; }
    public AsyncInferenceNotificationConfig? NotificationConfig { get; init; }
    public string? S3FailurePath { get; init; }
}

public sealed record AsyncInferenceConfig
{
    public AsyncInferenceClientConfig? ClientConfig { get; init; }
    public required AsyncInferenceOutputConfig OutputConfig { get; init; }
}

public sealed record CreateEndpointConfigRequest
{
    public required string EndpointConfigName { get; init; }
    public required List<ProductionVariant> ProductionVariants { get; init; }
    public DataCaptureConfig? DataCaptureConfig { get; init; }
    public List<Tag>? Tags { get; init; }
    public AsyncInferenceConfig? AsyncInferenceConfig { get; init; }
}

public sealed record CreateEndpointConfigResponse(string EndpointConfigArn);

public sealed record DescribeEndpointConfigRequest(string EndpointConfigName);

public sealed record DescribeEndpointConfigResponse
{
    public string? EndpointConfigName { get; init; }
    public string? EndpointConfigArn { get; init; }
    public List<ProductionVariant>? ProductionVariants { get; init; }
    [JsonConverter(typeof(EpochSecondsConverter))]
    public DateTimeOffset? CreationTime { get; init; }
}

public sealed record DeleteEndpointConfigRequest(string EndpointConfigName);

public sealed record CreateEndpointRequest
{
    public required string EndpointName { get; init; }
    public required string EndpointConfigName { get; init; }
    public List<Tag>? Tags { get; init; }
}

public sealed record CreateEndpointResponse(string EndpointArn);

public sealed record UpdateEndpointRequest(string EndpointName, string EndpointConfigName);

public sealed record UpdateEndpointResponse(string EndpointArn);

public sealed record DescribeEndpointRequest(string EndpointName);

public sealed record ProductionVariantSummary
{
    public string? VariantName { get; init; }
    public float? CurrentWeight { get; init; }
    public int? CurrentInstanceCount { get; init; }
}

public sealed record DescribeEndpointResponse
{
    public string? EndpointName { get; init; }
    public string? EndpointArn { get; init; }
    public string? EndpointConfigName { get; init; }
    public List<ProductionVariantSummary>? ProductionVariants { get; init; }
    public string? EndpointStatus { get; init; }
    public string? FailureReason { get; init; }
    [JsonConverter(typeof(EpochSecondsConverter))]
    public DateTimeOffset? CreationTime { get; init; }
    [JsonConverter(typeof(EpochSecondsConverter))]
    public DateTimeOffset? LastModifiedTime { get; init; }
}

public sealed record DeleteEndpointRequest(string EndpointName);

public sealed record ListEndpointsRequest
{
    public string? NameContains { get; init; }
    public int? MaxResults { get; init; }
    public string? NextToken { get; init; }
}

public sealed record EndpointSummary
{
    public string? EndpointName { get; init; }
    public string? EndpointArn { get; init; }
    public string? EndpointStatus { get; init; }
    [JsonConverter(typeof(EpochSecondsConverter))]
    public DateTimeOffset? CreationTime { get; init; }
}

public sealed record ListEndpointsResponse
{
    public List<EndpointSummary>? Endpoints { get; init; }
    public string? NextToken { get; init; }
}

public sealed record S3DataSource(string S3DataType, string S3Uri);

public sealed record TransformDataSource(S3DataSource S3DataSource);

public sealed record TransformInput
{
    public required TransformDataSource DataSource { get; init; }
    public string? ContentType { get; init; }
    public string? CompressionType { get; init; }
    public string? SplitType { get; init; }
}

public sealed record TransformOutput
{
    public required string S3OutputPath { get; init; }
    public string? Accept { get; init; }
    public string? AssembleWith { get; init; }
}

public sealed record TransformResources
{
    public required string InstanceType { get; init; }
    public required int InstanceCount { get; init; }
}

public sealed record DataProcessing
{
    public string? InputFilter { get; init; }
    public string? OutputFilter { get; init; }
    public string? JoinSource { get; init; }
}

public sealed record CreateTransformJobRequest
{
    public required string TransformJobName { get; init; }
    public required string ModelName { get; init; }
    public required TransformInput TransformInput { get; init; }
    public required TransformOutput TransformOutput { get; init; }
    public required TransformResources TransformResources { get; init; }
    public DataProcessing? DataProcessing { get; init; }
    public List<Tag>? Tags { get; init; }
}

public sealed record CreateTransformJobResponse(string TransformJobArn);

public sealed record DescribeTransformJobRequest(string TransformJobName);

public sealed record DescribeTransformJobResponse
{
    public string? TransformJobName { get; init; }
    public string? TransformJobArn { get; init; }
    public string? TransformJobStatus { get; init; }
    public string? FailureReason { get; init; }
    public string? ModelName { get; init; }
    public TransformInput? TransformInput { get; init; }
    public TransformOutput? TransformOutput { get; init; }
    public TransformResources? TransformResources { get; init; }
    [JsonConverter(typeof(EpochSecondsConverter))]
    public DateTimeOffset? CreationTime { get; init; }
    [JsonConverter(typeof(EpochSecondsConverter))]
    public DateTimeOffset? TransformStartTime { get; init; }
    [JsonConverter(typeof(EpochSecondsConverter))]
    public DateTimeOffset? TransformEndTime { get; init; }
}

public sealed record StopTransformJobRequest(string TransformJobName);

public sealed record ListTransformJobsRequest
{
    public string? NameContains { get; init; }
    public int? MaxResults { get; init; }
    public string? NextToken { get; init; }
}

public sealed record TransformJobSummary
{
    public string? TransformJobName { get; init; }
    public string? TransformJobArn { get; init; }
    public string? TransformJobStatus { get; init; }
    public string? FailureReason { get; init; }
    [JsonConverter(typeof(EpochSecondsConverter))]
    public DateTimeOffset? CreationTime { get; init; }
}

public sealed record ListTransformJobsResponse
{
    public List<TransformJobSummary>? TransformJobSummaries { get; init; }
    public string? NextToken { get; init; }
}

/// <summary>An operation whose answer has no members this module reads.</summary>
public sealed record EmptyResponse;

[JsonSourceGenerationOptions(
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    NumberHandling = JsonNumberHandling.AllowReadingFromString)]
[JsonSerializable(typeof(CreateModelRequest))]
[JsonSerializable(typeof(CreateModelResponse))]
[JsonSerializable(typeof(DescribeModelRequest))]
[JsonSerializable(typeof(DescribeModelResponse))]
[JsonSerializable(typeof(DeleteModelRequest))]
[JsonSerializable(typeof(CreateEndpointConfigRequest))]
[JsonSerializable(typeof(CreateEndpointConfigResponse))]
[JsonSerializable(typeof(DescribeEndpointConfigRequest))]
[JsonSerializable(typeof(DescribeEndpointConfigResponse))]
[JsonSerializable(typeof(DeleteEndpointConfigRequest))]
[JsonSerializable(typeof(CreateEndpointRequest))]
[JsonSerializable(typeof(CreateEndpointResponse))]
[JsonSerializable(typeof(UpdateEndpointRequest))]
[JsonSerializable(typeof(UpdateEndpointResponse))]
[JsonSerializable(typeof(DescribeEndpointRequest))]
[JsonSerializable(typeof(DescribeEndpointResponse))]
[JsonSerializable(typeof(DeleteEndpointRequest))]
[JsonSerializable(typeof(ListEndpointsRequest))]
[JsonSerializable(typeof(ListEndpointsResponse))]
[JsonSerializable(typeof(CreateTransformJobRequest))]
[JsonSerializable(typeof(CreateTransformJobResponse))]
[JsonSerializable(typeof(DescribeTransformJobRequest))]
[JsonSerializable(typeof(DescribeTransformJobResponse))]
[JsonSerializable(typeof(StopTransformJobRequest))]
[JsonSerializable(typeof(ListTransformJobsRequest))]
[JsonSerializable(typeof(ListTransformJobsResponse))]
[JsonSerializable(typeof(VpcConfig))]
[JsonSerializable(typeof(DataCaptureConfig))]
[JsonSerializable(typeof(AsyncInferenceConfig))]
[JsonSerializable(typeof(ServerlessConfig))]
[JsonSerializable(typeof(EmptyResponse))]
public sealed partial class SageMakerJson : JsonSerializerContext;

// ECR speaks camelCase.
public sealed record DescribeRepositoriesRequest(List<string> RepositoryNames);

public sealed record Repository
{
    public string? RepositoryName { get; init; }
    public string? RepositoryArn { get; init; }
    public string? RegistryId { get; init; }
    public string? RepositoryUri { get; init; }
}

public sealed record DescribeRepositoriesResponse(List<Repository>? Repositories);

public sealed record CreateRepositoryRequest(string RepositoryName);

public sealed record CreateRepositoryResponse(Repository? Repository);

public sealed record GetAuthorizationTokenRequest;

public sealed record AuthorizationData
{
    public string? AuthorizationToken { get; init; }
    public string? ProxyEndpoint { get; init; }
    [JsonConverter(typeof(EpochSecondsConverter))]
    public DateTimeOffset? ExpiresAt { get; init; }
}

public sealed record GetAuthorizationTokenResponse(List<AuthorizationData>? AuthorizationData);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(DescribeRepositoriesRequest))]
[JsonSerializable(typeof(DescribeRepositoriesResponse))]
[JsonSerializable(typeof(CreateRepositoryRequest))]
[JsonSerializable(typeof(CreateRepositoryResponse))]
[JsonSerializable(typeof(GetAuthorizationTokenRequest))]
[JsonSerializable(typeof(GetAuthorizationTokenResponse))]
public sealed partial class EcrJson : JsonSerializerContext;

/// <summary>JSON 1.1 timestamps: seconds since the epoch as a number (some services and emulators send ISO 8601 text).</summary>
public sealed class EpochSecondsConverter : JsonConverter<DateTimeOffset?>
{
    public override DateTimeOffset? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.TokenType switch
    {
        JsonTokenType.Null => null,
        JsonTokenType.Number => DateTimeOffset.FromUnixTimeMilliseconds((long)Math.Round(reader.GetDouble() * 1000)),
        JsonTokenType.String when double.TryParse(reader.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var s) =>
            DateTimeOffset.FromUnixTimeMilliseconds((long)Math.Round(s * 1000)),
        JsonTokenType.String when DateTimeOffset.TryParse(
            reader.GetString(),
            CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal,
            out var d) => d,
        _ => throw new JsonException($"A timestamp must be a number of seconds or a date, not {reader.TokenType}."),
    };

    public override void Write(Utf8JsonWriter writer, DateTimeOffset? value, JsonSerializerOptions options)
    {
        if (value is { } v) writer.WriteNumberValue(v.ToUnixTimeMilliseconds() / 1000.0);
        else writer.WriteNullValue();
    }
}
