namespace MlModels.Deploy;

/// <summary>
/// One deployment target (a Docker engine, SageMaker, Azure ML), in the shape of MLflow's BaseDeploymentClient:
/// create, update, delete, get, list, predict. Cmdlets ask <see cref="DeploymentTargetFactory"/> for a target and never
/// see its wire protocol. Target-specific settings travel in <see cref="DeploymentRequest.Config"/>.
/// </summary>
public interface IDeploymentTarget
{
    /// <summary>The target's name as the factory knows it ("docker", "sagemaker", "azureml").</summary>
    string Name { get; }

    Task<Deployment> CreateAsync(DeploymentRequest request, IProgress<DeploymentProgress>? progress, CancellationToken cancellationToken);

    Task<Deployment> UpdateAsync(DeploymentRequest request, IProgress<DeploymentProgress>? progress, CancellationToken cancellationToken);

    Task DeleteAsync(string name, IReadOnlyDictionary<string, object?>? config, IProgress<DeploymentProgress>? progress, CancellationToken cancellationToken);

    /// <summary>The deployment, or null where the target has none of that name.</summary>
    Task<Deployment?> GetAsync(string name, CancellationToken cancellationToken);

    Task<IReadOnlyList<Deployment>> ListAsync(CancellationToken cancellationToken);

    /// <summary>Sends one scoring request (an MLflow JSON or CSV body) and returns the target's raw answer.</summary>
    Task<PredictionResponse> PredictAsync(string name, PredictionRequest request, CancellationToken cancellationToken);
}

/// <summary>What to deploy: a name, the model folder (null where the target needs none) and target-specific settings.</summary>
public sealed record DeploymentRequest(string Name, string? ModelPath, IReadOnlyDictionary<string, object?> Config);

/// <summary>A deployment as its target reports it.</summary>
public record Deployment(string Name, string Target, string? Status, Uri? ScoringUri)
{
    /// <summary>Target-specific details (ARNs, resource ids, container ids), as the target names them.</summary>
    public IReadOnlyDictionary<string, object?> Details { get; init; } = new Dictionary<string, object?>();
}

/// <summary>A step of long work, for the cmdlet's progress bar: what is being done, its state, a percentage or -1.</summary>
public sealed record DeploymentProgress(string Activity, string Status, int PercentComplete = -1);

public sealed record PredictionRequest(ReadOnlyMemory<byte> Body, string ContentType);

public sealed record PredictionResponse(int StatusCode, string? ContentType, ReadOnlyMemory<byte> Body);
