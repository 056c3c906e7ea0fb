using MlModels.Core.Format;
using MlModels.Deploy.Endpoints;

namespace MlModels.Deploy.AzureML;

/// <summary>How to reach a workspace: plain connection options, or a deployer already made (tests put a fake ARM under it).</summary>
public sealed record AzureMLTargetSettings(AzureMLConnectionOptions? Connection) : DeploymentTargetSettings
{
    public AzureMLDeployer? Deployer { get; init; }
}

/// <summary>What to delete: the endpoint with its deployments, or only <see cref="DeploymentName"/>.</summary>
public sealed record AzureMLDeleteOptions(string Name) : DeleteDeploymentOptions(Name)
{
    public string? DeploymentName { get; init; }
}

/// <summary>
/// Azure ML behind the one deployment interface (MLflow's BaseDeploymentClient shape): a deployment is an online
/// endpoint (or, with <see cref="AzureMLPublishRequest.Batch"/>, a batch endpoint), made from
/// <see cref="AzureMLPublishRequest"/>. Traffic and batch jobs, which only Azure ML has, are methods of this class.
/// </summary>
public sealed class AzureMLDeploymentTarget(AzureMLDeployer deployer, IDisposable? owned = null) : IDeploymentTarget
{
    public const string TargetName = "azureml";

    public string Name => TargetName;

    public static IDeploymentTarget Create(DeploymentTargetSettings settings)
    {
        var s = DeploymentTargetFactory.SettingsAs<AzureMLTargetSettings>(TargetName, settings);
        if (s.Deployer != null) return new AzureMLDeploymentTarget(s.Deployer);
        var connection = AzureMLConnection.Open(
            s.Connection ?? throw new ArgumentException("The azureml target needs the workspace's connection options.", nameof(settings)));
        return new AzureMLDeploymentTarget(connection.Deployer, connection);
    }

    public void Dispose() => owned?.Dispose();

    /// <summary>Names, traffic and the model's servability checked, and each call Publish would make; no call, no sign-in.</summary>
    public Task<DeploymentPlan> PlanAsync(DeploymentOptions options, CancellationToken cancellationToken)
    {
        var r = Options(options);
        var model = ModelStore.Load(r.ModelPath);
        AzureMLDeployer.Check(r, model);
        // The model read here is the one deployed: the folder is read once.
        return Task.FromResult(new DeploymentPlan(r, deployer.Plan(r)) { State = model });
    }

    public async Task<Deployment> DeployAsync(DeploymentPlan plan, IProgress<DeploymentProgress>? progress, CancellationToken cancellationToken)
    {
        var r = Options(plan.Options);
        var model = plan.State as MLModel ?? ModelStore.Load(r.ModelPath);
        return ToDeployment(await deployer.PublishAsync(r, model, progress, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>Azure ML's create-or-update: a new model version, the endpoint made where missing, the deployment made or updated.</summary>
    public async Task<Deployment> CreateAsync(
        DeploymentOptions options,
        IProgress<DeploymentProgress>? progress,
        CancellationToken cancellationToken) =>
        await DeployAsync(await PlanAsync(options, cancellationToken).ConfigureAwait(false), progress, cancellationToken).ConfigureAwait(false);

    public Task<Deployment> UpdateAsync(DeploymentOptions options, IProgress<DeploymentProgress>? progress, CancellationToken cancellationToken) =>
        CreateAsync(options, progress, cancellationToken);

    public async Task<DeploymentRemoval> DeleteAsync(
        DeleteDeploymentOptions options,
        IProgress<DeploymentProgress>? progress,
        CancellationToken cancellationToken)
    {
        var deployment = (options as AzureMLDeleteOptions)?.DeploymentName;
        var found = await deployer.RemoveAsync(options.Name, deployment, progress, cancellationToken).ConfigureAwait(false);
        return new DeploymentRemoval(options.Name, found);
    }

    public async Task<Deployment?> GetAsync(string name, CancellationToken cancellationToken) =>
        await deployer.GetAsync(name, cancellationToken).ConfigureAwait(false) is { } e ? ToDeployment(e) : null;

    public async Task<IReadOnlyList<Deployment>> ListAsync(CancellationToken cancellationToken) =>
        (await deployer.ListAsync(cancellationToken).ConfigureAwait(false)).Select(ToDeployment).ToList();

    /// <summary>
    /// An MLflow JSON request (dataframe_split, dataframe_records, instances, inputs) sent in Azure ML's input_data form;
    /// <paramref name="variant"/> pins it to one deployment of the endpoint.
    /// </summary>
    public Task<PredictionResponse> PredictAsync(string name, PredictionRequest request, string? variant, CancellationToken cancellationToken)
    {
        var body = request.ContentType.StartsWith("application/json", StringComparison.OrdinalIgnoreCase)
            ? ScoringBodies.AzureMLInputData(request.Body.Span)
            : throw new NotSupportedException(
                $"Azure ML endpoints take JSON; '{request.ContentType}' cannot be sent. Read CSV into rows and send them as JSON.");
        return deployer.InvokeAsync(name, new PredictionRequest(body, "application/json"), variant, cancellationToken);
    }

    /// <summary>Sets an online endpoint's traffic split (MLflow's update_endpoint).</summary>
    public Task<AzureMLEndpoint> SetTrafficAsync(string name, IReadOnlyDictionary<string, int> traffic, IProgress<DeploymentProgress>? progress,
        CancellationToken cancellationToken) => deployer.SetTrafficAsync(name, traffic, progress, cancellationToken);

    public Task<BatchJobResource> StartBatchJobAsync(string name, string inputUri, string inputType, CancellationToken cancellationToken) =>
        deployer.StartBatchJobAsync(name, inputUri, inputType, cancellationToken);

    public Task<BatchJobResource> GetBatchJobAsync(string jobName, CancellationToken cancellationToken) =>
        deployer.GetBatchJobAsync(jobName, cancellationToken);

    private static AzureMLPublishRequest Options(DeploymentOptions options) => options as AzureMLPublishRequest
        ?? throw new ArgumentException($"The azureml target takes {nameof(AzureMLPublishRequest)}.", nameof(options));

    private static Deployment ToDeployment(AzureMLEndpoint e) => new(e.Name, TargetName, e.ProvisioningState, e.ScoringUri)
    {
        Details = new Dictionary<string, object?>
        {
            ["id"] = e.Id, ["kind"] = e.Kind, ["auth_mode"] = e.AuthMode, ["traffic"] = e.Traffic,
            ["deployments"] = e.Deployments, ["model_id"] = e.ModelId, ["location"] = e.Location,
        },
        Resource = e,
    };
}
