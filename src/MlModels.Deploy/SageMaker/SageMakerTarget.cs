using System.Globalization;
using MlModels.Deploy.Aws;

namespace MlModels.Deploy.SageMaker;

/// <summary>
/// SageMaker behind <see cref="IDeploymentTarget"/>, with MLflow's SageMaker deployment-client config keys
/// (execution_role_arn, bucket, image_url, instance_type, instance_count, vpc_config, flavor, archive, synchronous,
/// timeout_seconds, variant_name, data_capture_config, async_inference_config, serverless_config, env, tags, mode).
/// Register with <c>factory.Register("sagemaker", s => SageMakerTarget.FromSettings(s))</c>; the settings carry an
/// <see cref="AwsConnection"/> under "connection" or <see cref="AwsConnectionOptions"/> under "aws".
/// </summary>
public sealed class SageMakerTarget(AwsConnection connection) : IDeploymentTarget
{
    private readonly SageMakerDeployer _deployer = new(connection);

    public string Name => "sagemaker";

    public static SageMakerTarget FromSettings(IReadOnlyDictionary<string, object?> settings) => settings.GetValueOrDefault("connection") switch
    {
        AwsConnection c => new SageMakerTarget(c),
        _ => new SageMakerTarget(AwsConnection.Open(settings.GetValueOrDefault("aws") as AwsConnectionOptions ?? new AwsConnectionOptions())),
    };

    public Task<Deployment> CreateAsync(DeploymentRequest request, IProgress<DeploymentProgress>? progress, CancellationToken cancellationToken) =>
        DeployAsync(request, SageMakerDeployMode.Create, progress, cancellationToken);

    /// <summary>MLflow's update_deployment: Replace unless the config's mode says Add.</summary>
    public Task<Deployment> UpdateAsync(DeploymentRequest request, IProgress<DeploymentProgress>? progress, CancellationToken cancellationToken) =>
        DeployAsync(request, string.Equals(Text(request.Config, "mode"), "add", StringComparison.OrdinalIgnoreCase) ? SageMakerDeployMode.Add : SageMakerDeployMode.Replace, progress, cancellationToken);

    private async Task<Deployment> DeployAsync(DeploymentRequest request, SageMakerDeployMode mode, IProgress<DeploymentProgress>? progress, CancellationToken ct)
    {
        var options = Options(request, mode);
        return await _deployer.DeployAsync(await _deployer.PlanAsync(options, ct).ConfigureAwait(false), progress, ct).ConfigureAwait(false);
    }

    public async Task DeleteAsync(string name, IReadOnlyDictionary<string, object?>? config, IProgress<DeploymentProgress>? progress, CancellationToken cancellationToken)
    {
        config ??= new Dictionary<string, object?>();
        await _deployer.RemoveAsync(name, Flag(config, "archive"), Flag(config, "include_model_data"),
            TimeSpan.FromSeconds(Number(config, "timeout_seconds") ?? 300), TimeSpan.FromSeconds(10), progress, cancellationToken).ConfigureAwait(false);
    }

    public async Task<Deployment?> GetAsync(string name, CancellationToken cancellationToken) => await _deployer.GetAsync(name, cancellationToken).ConfigureAwait(false);

    public async Task<IReadOnlyList<Deployment>> ListAsync(CancellationToken cancellationToken) =>
        [.. await _deployer.ListAsync(null, cancellationToken).ConfigureAwait(false)];

    public Task<PredictionResponse> PredictAsync(string name, PredictionRequest request, CancellationToken cancellationToken) =>
        new SageMakerRuntimeClient(connection).InvokeAsync(name, request, "application/json", null, cancellationToken);

    /// <summary>A deployment request's config as deploy options (MLflow's key names).</summary>
    public static SageMakerDeployOptions Options(DeploymentRequest request, SageMakerDeployMode mode)
    {
        var c = request.Config;
        if (request.ModelPath == null) throw new ArgumentException("A SageMaker deployment needs the model folder.");
        return new SageMakerDeployOptions
        {
            AppName = request.Name, ModelPath = request.ModelPath, Mode = mode,
            ExecutionRoleArn = Text(c, "execution_role_arn"), ImageUrl = Text(c, "image_url"), Bucket = Text(c, "bucket"),
            InstanceType = Text(c, "instance_type") ?? "ml.m4.xlarge", InstanceCount = (int)(Number(c, "instance_count") ?? 1),
            Flavor = Text(c, "flavor"), VariantName = Text(c, "variant_name"), Archive = Flag(c, "archive"),
            Synchronous = !c.ContainsKey("synchronous") || Flag(c, "synchronous"), Timeout = TimeSpan.FromSeconds(Number(c, "timeout_seconds") ?? 1200),
            VpcConfig = Shape<VpcConfig>(c, "vpc_config"), DataCaptureConfig = Shape<DataCaptureConfig>(c, "data_capture_config"),
            AsyncInferenceConfig = Shape<AsyncInferenceConfig>(c, "async_inference_config"), ServerlessConfig = Shape<ServerlessConfig>(c, "serverless_config"),
            Environment = Strings(c, "env"), Tags = Strings(c, "tags"),
        };
    }

    private static string? Text(IReadOnlyDictionary<string, object?> c, string key) => c.GetValueOrDefault(key)?.ToString();

    private static double? Number(IReadOnlyDictionary<string, object?> c, string key) =>
        c.GetValueOrDefault(key) is { } v ? Convert.ToDouble(v, CultureInfo.InvariantCulture) : null;

    private static bool Flag(IReadOnlyDictionary<string, object?> c, string key) => c.GetValueOrDefault(key) switch
    {
        bool b => b,
        string s => bool.Parse(s),
        null => false,
        var v => Convert.ToBoolean(v, CultureInfo.InvariantCulture),
    };

    private static T? Shape<T>(IReadOnlyDictionary<string, object?> c, string key) where T : class =>
        c.GetValueOrDefault(key) is { } v ? PlainValues.ToShape<T>(v, key) : null;

    private static IReadOnlyDictionary<string, string>? Strings(IReadOnlyDictionary<string, object?> c, string key) =>
        c.GetValueOrDefault(key) is System.Collections.IDictionary d
            ? d.Keys.Cast<object>().ToDictionary(k => k.ToString()!, k => Convert.ToString(d[k], CultureInfo.InvariantCulture) ?? "", StringComparer.Ordinal)
            : null;
}
