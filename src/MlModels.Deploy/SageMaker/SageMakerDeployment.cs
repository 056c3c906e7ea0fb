namespace MlModels.Deploy.SageMaker;

public enum SageMakerDeployMode
{
    /// <summary>A new endpoint; an endpoint of that name must not exist.</summary>
    Create,
    /// <summary>The existing endpoint's models are replaced by the new one (weight 1).</summary>
    Replace,
    /// <summary>The new model joins the existing endpoint's variants with weight 0.</summary>
    Add,
}

/// <summary>What Publish-MLModelSageMaker deploys, with MLflow's parameter names and defaults.</summary>
public sealed record SageMakerDeployOptions : DeploymentOptions
{
    public required string AppName { get; init; }
    public required string ModelPath { get; init; }
    public override string TargetName => AppName;
    /// <summary>
    /// The model folder's own S3 location (a model read from an S3-rooted run or registry): SageMaker reads it in place
    /// (ModelDataSource, uncompressed) and nothing is packed or uploaded. Null packs and uploads model.tar.gz as MLflow does.
    /// </summary>
    public string? ModelDataS3Uri { get; init; }
    public SageMakerDeployMode Mode { get; init; } = SageMakerDeployMode.Create;
    public string? ExecutionRoleArn { get; init; }
    public string? ImageUrl { get; init; }
    public string? Bucket { get; init; }
    public string InstanceType { get; init; } = "ml.m4.xlarge";
    public int InstanceCount { get; init; } = 1;
    public VpcConfig? VpcConfig { get; init; }
    public string? Flavor { get; init; }
    public string? VariantName { get; init; }
    public DataCaptureConfig? DataCaptureConfig { get; init; }
    public AsyncInferenceConfig? AsyncInferenceConfig { get; init; }
    public ServerlessConfig? ServerlessConfig { get; init; }
    public IReadOnlyDictionary<string, string>? Environment { get; init; }
    public IReadOnlyDictionary<string, string>? Tags { get; init; }
    /// <summary>Keep the replaced models and endpoint configuration instead of deleting them.</summary>
    public bool Archive { get; init; }
    /// <summary>Wait until the endpoint is InService (or failed, or the timeout passed).</summary>
    public bool Synchronous { get; init; } = true;
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(1200);
    /// <summary>How often the endpoint is described while waiting.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(10);
}

/// <summary>One call a deployment makes, for -WhatIf and for the report of what was made.</summary>
public sealed record SageMakerCall(string Service, string Operation, string Target)
{
    public override string ToString() => $"{Service} {Operation} {Target}";
}

/// <summary>One production variant of an endpoint: its model and share of traffic.</summary>
public sealed record SageMakerVariant(string VariantName, string? ModelName, float? Weight, string? InstanceType, int? InstanceCount);

/// <summary>A SageMaker endpoint as Get-MLModelSageMakerDeployment and Publish-MLModelSageMaker report it.</summary>
public sealed record SageMakerDeployment(string Name, string? Status, Uri? ScoringUri) : Deployment(Name, "sagemaker", Status, ScoringUri)
{
    public string? EndpointArn { get; init; }
    public string? EndpointConfigName { get; init; }
    public string? Region { get; init; }
    public string? FailureReason { get; init; }
    public DateTimeOffset? CreationTime { get; init; }
    public DateTimeOffset? LastModifiedTime { get; init; }
    public IReadOnlyList<SageMakerVariant> Variants { get; init; } = [];
    /// <summary>The flavor served and the model data of this call's model (deployments only).</summary>
    public string? Flavor { get; init; }
    public string? ModelDataUrl { get; init; }
    public string? ImageUrl { get; init; }
    /// <summary>Resources a Replace or Add kept (-Archive) or deleted after the new configuration took over.</summary>
    public IReadOnlyList<string> Archived { get; init; } = [];
    public IReadOnlyList<string> CleanedUp { get; init; } = [];
}

/// <summary>
/// A deployment that failed, timed out or was cancelled, after its rollback: what was deleted and what is left
/// (each named), so nothing half-made goes unmentioned.
/// </summary>
public sealed class SageMakerDeploymentException(string message, IReadOnlyList<string> rolledBack, IReadOnlyList<string> remaining, Exception inner)
    : Exception(message, inner)
{
    public IReadOnlyList<string> RolledBack { get; } = rolledBack;
    public IReadOnlyList<string> Remaining { get; } = remaining;
}

/// <summary>What Remove-MLModelSageMakerDeployment deleted and kept.</summary>
public sealed record SageMakerRemoval(string Name, IReadOnlyList<string> Deleted, IReadOnlyList<string> Kept);
