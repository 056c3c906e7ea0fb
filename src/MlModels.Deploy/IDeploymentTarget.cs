namespace MlModels.Deploy;

/// <summary>
/// One deployment target (a Docker engine, SageMaker, Azure ML), in the shape of MLflow's BaseDeploymentClient:
/// create, update, delete, get, list, predict; plus plan (the calls a deployment would make, read-only, for -WhatIf)
/// and deploy (a plan carried out). Cmdlets ask <see cref="DeploymentTargetFactory"/> for a target and never see its
/// wire protocol; each target takes its own typed options (<see cref="DeploymentOptions"/>,
/// <see cref="DeleteDeploymentOptions"/>), so a cmdlet only binds parameters into them.
/// </summary>
public interface IDeploymentTarget : IDisposable
{
    /// <summary>The target's name as the factory knows it ("docker", "sagemaker", "azureml").</summary>
    string Name { get; }

    /// <summary>Checks the options and lists the calls a deployment would make, without changing anything.</summary>
    Task<DeploymentPlan> PlanAsync(DeploymentOptions options, CancellationToken cancellationToken);

    /// <summary>Carries out a plan from <see cref="PlanAsync"/>.</summary>
    Task<Deployment> DeployAsync(DeploymentPlan plan, IProgress<DeploymentProgress>? progress, CancellationToken cancellationToken);

    /// <summary>MLflow's create_deployment: a deployment of that name must not exist yet.</summary>
    Task<Deployment> CreateAsync(DeploymentOptions options, IProgress<DeploymentProgress>? progress, CancellationToken cancellationToken);

    /// <summary>MLflow's update_deployment: the existing deployment gets the new model.</summary>
    Task<Deployment> UpdateAsync(DeploymentOptions options, IProgress<DeploymentProgress>? progress, CancellationToken cancellationToken);

    /// <summary>Deletes the deployment; <see cref="DeploymentRemoval.Found"/> is false where there was none of that name.</summary>
    Task<DeploymentRemoval> DeleteAsync(
        DeleteDeploymentOptions options,
        IProgress<DeploymentProgress>? progress,
        CancellationToken cancellationToken);

    /// <summary>The deployment, or null where the target has none of that name.</summary>
    Task<Deployment?> GetAsync(string name, CancellationToken cancellationToken);

    Task<IReadOnlyList<Deployment>> ListAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Sends one scoring request (an MLflow JSON or CSV body) and returns the target's raw answer; <paramref name="variant"/>
    /// pins it to one part of the deployment (SageMaker's production variant, Azure ML's deployment) where the target has parts.
    /// </summary>
    Task<PredictionResponse> PredictAsync(string name, PredictionRequest request, string? variant, CancellationToken cancellationToken);
}

/// <summary>What to deploy, as one target's typed options (<c>DockerDeploymentOptions</c>,
/// <c>SageMakerDeployOptions</c>, <c>AzureMLPublishRequest</c>).</summary>
public abstract record DeploymentOptions
{
    /// <summary>The deployment's name as the target knows it (container, SageMaker app, Azure ML endpoint).</summary>
    public abstract string TargetName { get; }
}

/// <summary>What to delete, as one target's typed options; the base form deletes the deployment and what belongs to it.</summary>
public record DeleteDeploymentOptions(string Name);

/// <summary>The calls a deployment would make (for -WhatIf), and what the target needs to carry them out.</summary>
public sealed record DeploymentPlan(DeploymentOptions Options, IReadOnlyList<string> Calls)
{
    /// <summary>The target's own plan (read-only state gathered while planning), handed back to DeployAsync.</summary>
    public object? State { get; init; }
}

/// <summary>A deployment as its target reports it.</summary>
public record Deployment(string Name, string Target, string? Status, Uri? ScoringUri)
{
    /// <summary>Target-specific details (ARNs, resource ids, container ids), as the target names them.</summary>
    public IReadOnlyDictionary<string, object?> Details { get; init; } = new Dictionary<string, object?>();

    /// <summary>The target's own object for the deployment (what its cmdlets write): an endpoint, a container.</summary>
    public object? Resource { get; init; }

    /// <summary>The target's own object, or this deployment where it is that object (SageMaker's).</summary>
    public object Own => Resource ?? this;
}

/// <summary>What a delete did: whether the deployment existed, and the target's own report of it.</summary>
public sealed record DeploymentRemoval(string Name, bool Found)
{
    public object? Resource { get; init; }
}

/// <summary>A step of long work, for the cmdlet's progress bar: what is being done, its state, a percentage or -1.</summary>
public sealed record DeploymentProgress(string Activity, string Status, int PercentComplete = -1);

public sealed record PredictionRequest(ReadOnlyMemory<byte> Body, string ContentType);

public sealed record PredictionResponse(int StatusCode, string? ContentType, ReadOnlyMemory<byte> Body);
