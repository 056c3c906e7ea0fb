using System.Management.Automation;
using MlModels.Core.Format;
using MlModels.Deploy.SageMaker;
using MlModels.PowerShell.Internal;

namespace MlModels.PowerShell.Commands;

/// <summary>
/// MLflow's <c>mlflow sagemaker deploy-transform-job</c>: the model to S3 and SageMaker, then a batch transform job
/// from an S3 input prefix to an S3 output prefix. With -Wait it follows the job to its end and then removes the
/// model (unless -Archive).
/// </summary>
[Cmdlet(VerbsLifecycle.Start, "MLModelSageMakerTransform", SupportsShouldProcess = true, DefaultParameterSetName = "Model")]
[OutputType(typeof(SageMakerTransformJob))]
public sealed class StartMLModelSageMakerTransformCommand : AwsCmdlet
{
    [Parameter(Mandatory = true, Position = 0)]
    [Alias("TransformJobName")]
    public string JobName { get; set; } = "";

    [Parameter(ParameterSetName = "Model", Mandatory = true, ValueFromPipeline = true)]
    public MLModel? Model { get; set; }

    [Parameter(ParameterSetName = "Path", Mandatory = true)]
    [Alias("ModelPath", "ModelUri")]
    public string? Path { get; set; }

    /// <summary>s3://bucket/prefix of the input data (or of a manifest, with -InputDataType ManifestFile).</summary>
    [Parameter(Mandatory = true)]
    [Alias("S3InputUri")]
    public string InputUri { get; set; } = "";

    [Parameter(Mandatory = true)]
    [Alias("S3OutputPath")]
    public string OutputUri { get; set; } = "";

    [Parameter]
    public string ContentType { get; set; } = "text/csv";

    [Parameter]
    [ValidateSet("S3Prefix", "ManifestFile", "AugmentedManifestFile")]
    [Alias("S3InputDataType")]
    public string InputDataType { get; set; } = "S3Prefix";

    [Parameter]
    [ValidateSet("None", "Line", "RecordIO", "TFRecord")]
    public string SplitType { get; set; } = "Line";

    [Parameter]
    [ValidateSet("None", "Gzip")]
    public string CompressionType { get; set; } = "None";

    [Parameter]
    public string Accept { get; set; } = "text/csv";

    [Parameter]
    [ValidateSet("None", "Line")]
    public string AssembleWith { get; set; } = "Line";

    [Parameter]
    public string InputFilter { get; set; } = "$";

    [Parameter]
    public string OutputFilter { get; set; } = "$";

    [Parameter]
    [ValidateSet("None", "Input")]
    [Alias("JoinResource")]
    public string JoinSource { get; set; } = "None";

    [Parameter]
    public string? ExecutionRoleArn { get; set; }

    [Parameter]
    public string? ImageUrl { get; set; }

    [Parameter]
    public string? Bucket { get; set; }

    [Parameter]
    public string InstanceType { get; set; } = "ml.m4.xlarge";

    [Parameter]
    [ValidateRange(1, 1000)]
    public int InstanceCount { get; set; } = 1;

    [Parameter]
    public System.Collections.Hashtable? VpcConfig { get; set; }

    [Parameter]
    [ValidateSet("python_function")]
    public string? Flavor { get; set; }

    /// <summary>Keep the model and its data in S3 after the job.</summary>
    [Parameter]
    public SwitchParameter Archive { get; set; }

    /// <summary>Follow the job until it completes, fails or stops.</summary>
    [Parameter]
    public SwitchParameter Wait { get; set; }

    [Parameter]
    [Alias("TimeoutSeconds")]
    [ValidateRange(1, 7 * 86_400)]
    public int Timeout { get; set; } = 1200;

    protected override void ProcessRecord()
    {
        var model = ModelFromArguments(Model, Path);
        if (model?.Path == null) return;
        SageMakerTransformOptions options;
        try
        {
            options = new SageMakerTransformOptions
            {
                JobName = JobName, ModelPath = model
                    .Path, InputUri = InputUri, OutputUri = OutputUri, ContentType = ContentType, InputDataType = InputDataType,
                SplitType = SplitType, CompressionType = CompressionType, Accept = Accept, AssembleWith = AssembleWith, InputFilter = InputFilter,
                OutputFilter = OutputFilter, JoinSource = JoinSource, ExecutionRoleArn = ExecutionRoleArn, ImageUrl = ImageUrl, Bucket = Bucket,
                InstanceType = InstanceType, InstanceCount = InstanceCount, VpcConfig = Shape<VpcConfig>(VpcConfig, "-VpcConfig"), Flavor = Flavor,
                Archive = Archive, Wait = Wait, Timeout = TimeSpan.FromSeconds(Timeout),
            };
        }
        catch (ArgumentException ex) { WriteError(Errors.Record(ex, "InvalidTransform", ErrorCategory.InvalidArgument, JobName)); return; }
        using var target = OpenTarget();
        var transforms = target.Transforms;
        if (!TryRun(
            "Start-MLModelSageMakerTransform",
            JobName,
            (_, ct) => transforms.PlanAsync(options, ct),
            out var planned,
            terminating: false)) return;
        if (!ShouldProcessCalls(
            $"Start SageMaker batch transform job '{JobName}'",
            planned.Calls,
            $"Start batch transform job '{JobName}'?",
            "Start-MLModelSageMakerTransform")) return;
        if (TryRun(
            "Start-MLModelSageMakerTransform",
            JobName,
            (progress, ct) => transforms.StartAsync(options, planned.Plan, progress, ct),
            out var job,
            terminating: false))
            WriteObject(job);
    }
}
