namespace MlModels.Deploy.Aws;

/// <summary>
/// One AWS service as its service model describes it: the id that names its endpoint settings
/// (AWS_ENDPOINT_URL_&lt;ID&gt;, the profile's services section), the SigV4 signing name, the endpoint host prefix and,
/// for the JSON 1.1 protocol, the X-Amz-Target prefix.
/// </summary>
public sealed record AwsService(string ServiceId, string SigningName, string EndpointPrefix, string? TargetPrefix)
{
    public static AwsService SageMaker { get; } = new("SageMaker", "sagemaker", "api.sagemaker", "SageMaker");

    public static AwsService SageMakerRuntime { get; } = new("SageMaker Runtime", "sagemaker", "runtime.sagemaker", null);

    public static AwsService Ecr { get; } = new("ECR", "ecr", "api.ecr", "AmazonEC2ContainerRegistry_V20150921");

    /// <summary>The public endpoint in a region (the partition's DNS suffix: .com.cn in China).</summary>
    public Uri DefaultEndpoint(string region) =>
        new($"https://{EndpointPrefix}.{region}.{(region.StartsWith("cn-", StringComparison.Ordinal) ? "amazonaws.com.cn" : "amazonaws.com")}/");
}
