using System.Collections;
using System.Management.Automation;
using MlModels.Core.Format;
using MlModels.Deploy.SageMaker;
using MlModels.PowerShell.Internal;

namespace MlModels.PowerShell.Commands;

/// <summary>
/// MLflow's <c>mlflow sagemaker deploy</c>: the model to S3 as model.tar.gz, then CreateModel, CreateEndpointConfig and
/// CreateEndpoint (or UpdateEndpoint for -Mode Replace/Add), waiting until the endpoint is InService; a failure rolls
/// back what this call made. -WhatIf prints each call it would make.
/// </summary>
[Cmdlet(VerbsData.Publish, "MLModelSageMaker", SupportsShouldProcess = true, DefaultParameterSetName = "Model")]
[OutputType(typeof(SageMakerDeployment))]
public sealed class PublishMLModelSageMakerCommand : AwsCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("EndpointName")]
    public string AppName { get; set; } = "";

    [Parameter(ParameterSetName = "Model", Mandatory = true, ValueFromPipeline = true)]
    public MLModel? Model { get; set; }

    /// <summary>The model folder, instead of -Model.</summary>
    [Parameter(ParameterSetName = "Path", Mandatory = true, Position = 1)]
    [Alias("ModelPath", "ModelUri")]
    public string? Path { get; set; }

    [Parameter]
    [ValidateSet("Create", "Replace", "Add")]
    public string Mode { get; set; } = "Create";

    [Parameter]
    public string? ExecutionRoleArn { get; set; }

    /// <summary>The serving image in ECR (else MLFLOW_SAGEMAKER_DEPLOY_IMG_URL, else this account's mlflow-pyfunc repository).</summary>
    [Parameter]
    public string? ImageUrl { get; set; }

    /// <summary>Where model.tar.gz goes (else mlflow-sagemaker-&lt;region&gt;-&lt;account&gt;, created when missing).</summary>
    [Parameter]
    [Alias("BucketName")]
    public string? Bucket { get; set; }

    [Parameter]
    public string InstanceType { get; set; } = "ml.m4.xlarge";

    [Parameter]
    [ValidateRange(1, 1000)]
    public int InstanceCount { get; set; } = 1;

    /// <summary>@{ SecurityGroupIds = @('sg-…'); Subnets = @('subnet-…') }</summary>
    [Parameter]
    public Hashtable? VpcConfig { get; set; }

    [Parameter]
    [ValidateSet("python_function")]
    public string? Flavor { get; set; }

    [Parameter]
    public string? VariantName { get; set; }

    [Parameter]
    public Hashtable? DataCaptureConfig { get; set; }

    [Parameter]
    public Hashtable? AsyncInferenceConfig { get; set; }

    [Parameter]
    public Hashtable? ServerlessConfig { get; set; }

    /// <summary>Environment variables for the model's container, added to MLflow's own.</summary>
    [Parameter]
    [Alias("Env")]
    public Hashtable? Environment { get; set; }

    [Parameter]
    [Alias("Tags")]
    public Hashtable? Tag { get; set; }

    /// <summary>Keep the models and endpoint configuration a Replace or Add makes unused.</summary>
    [Parameter]
    public SwitchParameter Archive { get; set; }

    /// <summary>Return once the endpoint is being created or updated (needs -Archive).</summary>
    [Parameter]
    public SwitchParameter NoWait { get; set; }

    /// <summary>
    /// Pack and upload model.tar.gz even when the model came from S3 (Get-MLModel -Uri s3://... or an S3-rooted registry),
    /// whose folder SageMaker otherwise reads in place.
    /// </summary>
    [Parameter]
    public SwitchParameter Upload { get; set; }

    /// <summary>Seconds to wait for InService before rolling back.</summary>
    [Parameter]
    [Alias("TimeoutSeconds")]
    [ValidateRange(1, 86_400)]
    public int Timeout { get; set; } = 1200;

    protected override void ProcessRecord()
    {
        var model = ModelFromArguments(Model, Path);
        if (model == null) return;
        if (model.Path == null)
        {
            WriteError(Errors.Record(
            new InvalidOperationException("Save the model before deploying it."),
            "ModelNotSaved",
            ErrorCategory.InvalidOperation,
            model)); return;
        }
        SageMakerDeployOptions options;
        try
        {
            options = new SageMakerDeployOptions
            {
                AppName = AppName, ModelPath = model.Path, Mode = Enum.Parse<SageMakerDeployMode>(
                    Mode), ExecutionRoleArn = ExecutionRoleArn, ImageUrl = ImageUrl,
                Bucket = Bucket, InstanceType = InstanceType, InstanceCount = InstanceCount, Flavor = Flavor, VariantName = VariantName,
                VpcConfig = Shape<VpcConfig>(VpcConfig, "-VpcConfig"), DataCaptureConfig = Shape<DataCaptureConfig>(
                    DataCaptureConfig,
                    "-DataCaptureConfig"),
                AsyncInferenceConfig = Shape<AsyncInferenceConfig>(AsyncInferenceConfig, "-AsyncInferenceConfig"),
                ServerlessConfig = Shape<ServerlessConfig>(ServerlessConfig, "-ServerlessConfig"),
                Environment = StringMap(Environment), Tags = StringMap(Tag), Archive = Archive, Synchronous = !NoWait,
                Timeout = TimeSpan.FromSeconds(Timeout),
                // A folder that already lives in S3 is read there, as it is; -Upload packs it as MLflow does.
                ModelDataS3Uri = !Upload && model.Origin?.ArtifactUri is { } origin && origin.StartsWith("s3://", StringComparison.OrdinalIgnoreCase)
                    ? origin : null,
            };
            SageMakerDeployer.Validate(options);
        }
        catch (ArgumentException ex) { WriteError(Errors.Record(ex, "InvalidDeployment", ErrorCategory.InvalidArgument, AppName)); return; }

        using var target = OpenTarget();
        if (!TryRun("Publish-MLModelSageMaker", AppName, (_, ct) => target.PlanAsync(options, ct), out var plan, terminating: false)) return;
        if (!ShouldProcessCalls($"Deploy model '{model.Name}' to SageMaker endpoint '{AppName}' in {target.RegionName} ({Mode})", plan.Calls,
            $"Deploy model '{model.Name}' to SageMaker endpoint '{AppName}' ({Mode})?", "Publish-MLModelSageMaker")) return;
        if (TryRun(
            "Publish-MLModelSageMaker",
            AppName,
            (progress, ct) => target.DeployAsync(plan, progress, ct),
            out var deployment,
            terminating: false))
            WriteObject(deployment.Own);
    }
}
