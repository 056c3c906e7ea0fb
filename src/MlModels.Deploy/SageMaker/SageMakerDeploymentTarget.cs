using MlModels.Deploy.Aws;

namespace MlModels.Deploy.SageMaker;

/// <summary>How to reach SageMaker: AWS settings as AWS.Tools resolves them, or a connection already open (tests, reuse).</summary>
public sealed record SageMakerTargetSettings(AwsConnectionOptions Aws) : DeploymentTargetSettings
{
    /// <summary>An open connection to use instead of opening one from <see cref="Aws"/>; the target does not dispose it.</summary>
    public AwsConnection? Connection { get; init; }
}

/// <summary>What to delete: the endpoint, and unless <see cref="Archive"/> its configuration and models (MLflow's delete).</summary>
public sealed record SageMakerDeleteOptions(string Name) : DeleteDeploymentOptions(Name)
{
    public bool Archive { get; init; }
    /// <summary>Also delete each model's model.tar.gz from S3.</summary>
    public bool IncludeModelData { get; init; }
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(300);
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(10);
}

/// <summary>
/// SageMaker behind <see cref="IDeploymentTarget"/>: MLflow's SageMaker deployment client (deploy with rollback, delete,
/// get, list, InvokeEndpoint), with <see cref="SageMakerDeployOptions"/> as its options. Batch transform, which is no
/// deployment, is reached through <see cref="Transforms"/>.
/// </summary>
public sealed class SageMakerDeploymentTarget : IDeploymentTarget
{
    public const string TargetName = "sagemaker";
    private readonly AwsConnection _connection;
    private readonly bool _owned;
    private readonly SageMakerDeployer _deployer;

    public SageMakerDeploymentTarget(AwsConnection connection, bool ownsConnection = false)
    {
        _connection = connection;
        _owned = ownsConnection;
        _deployer = new SageMakerDeployer(connection);
    }

    public static IDeploymentTarget Create(DeploymentTargetSettings settings)
    {
        var s = DeploymentTargetFactory.SettingsAs<SageMakerTargetSettings>(TargetName, settings);
        return s.Connection != null
            ? new SageMakerDeploymentTarget(s.Connection)
            : new SageMakerDeploymentTarget(AwsConnection.Open(s.Aws), ownsConnection: true);
    }

    public string Name => TargetName;

    /// <summary>The region the calls go to.</summary>
    public string RegionName => _connection.RegionName;

    /// <summary>Batch transform jobs over the same connection.</summary>
    public SageMakerTransforms Transforms => new(_connection);

    public void Dispose()
    {
        if (_owned) _connection.Dispose();
    }

    /// <summary>The names, bucket, role and image worked out with read-only calls, and each call the deployment would make.</summary>
    public async Task<DeploymentPlan> PlanAsync(DeploymentOptions options, CancellationToken cancellationToken)
    {
        // The deployer's plan validates the options (model, flavor, names) before its first call.
        var plan = await _deployer.PlanAsync(Options(options), cancellationToken).ConfigureAwait(false);
        return new DeploymentPlan(plan.Options, plan.Calls.Select(c => c.ToString()).ToList()) { State = plan };
    }

    public async Task<Deployment> DeployAsync(DeploymentPlan plan, IProgress<DeploymentProgress>? progress, CancellationToken cancellationToken)
    {
        var own = plan.State as SageMakerDeploymentPlan
            ?? throw new ArgumentException("The plan was not made by the sagemaker target.", nameof(plan));
        return await _deployer.DeployAsync(own, progress, cancellationToken).ConfigureAwait(false);
    }

    public async Task<Deployment> CreateAsync(
        DeploymentOptions options,
        IProgress<DeploymentProgress>? progress,
        CancellationToken cancellationToken) =>
        await DeployAsync(
            await PlanAsync(Options(options) with { Mode = SageMakerDeployMode.Create }, cancellationToken).ConfigureAwait(false),
            progress,
            cancellationToken)
            .ConfigureAwait(false);

    /// <summary>MLflow's update_deployment: Replace, unless the options say Add.</summary>
    public async Task<Deployment> UpdateAsync(DeploymentOptions options, IProgress<DeploymentProgress>? progress, CancellationToken cancellationToken)
    {
        var o = Options(options);
        if (o.Mode == SageMakerDeployMode.Create) o = o with { Mode = SageMakerDeployMode.Replace };
        return await DeployAsync(await PlanAsync(o, cancellationToken).ConfigureAwait(false), progress, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>MLflow's delete; an endpoint that does not exist is SageMaker's ValidationException, as MLflow reports it.</summary>
    public async Task<DeploymentRemoval> DeleteAsync(
        DeleteDeploymentOptions options,
        IProgress<DeploymentProgress>? progress,
        CancellationToken cancellationToken)
    {
        var o = options as SageMakerDeleteOptions ?? new SageMakerDeleteOptions(options.Name);
        var removal = await _deployer.RemoveAsync(o.Name, o.Archive, o.IncludeModelData, o.Timeout, o.PollInterval, progress, cancellationToken)
            .ConfigureAwait(false);
        return new DeploymentRemoval(o.Name, Found: true) { Resource = removal };
    }

    public async Task<Deployment?> GetAsync(string name, CancellationToken cancellationToken) =>
        await _deployer.GetAsync(name, cancellationToken).ConfigureAwait(false);

    public async Task<IReadOnlyList<Deployment>> ListAsync(CancellationToken cancellationToken) =>
        [.. await _deployer.ListAsync(null, cancellationToken).ConfigureAwait(false)];

    /// <summary>sagemaker-runtime InvokeEndpoint; <paramref name="variant"/> is the production variant to send it to.</summary>
    public Task<PredictionResponse> PredictAsync(string name, PredictionRequest request, string? variant, CancellationToken cancellationToken) =>
        new SageMakerRuntimeClient(_connection).InvokeAsync(name, request, "application/json", variant, cancellationToken);

    private static SageMakerDeployOptions Options(DeploymentOptions options) => options as SageMakerDeployOptions
        ?? throw new ArgumentException($"The sagemaker target takes {nameof(SageMakerDeployOptions)}.", nameof(options));
}
