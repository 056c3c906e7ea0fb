using System.Collections;
using System.Management.Automation;
using MlModels.Core.Format;
using MlModels.Deploy;
using MlModels.Deploy.Docker;
using MlModels.Deploy.SageMaker;
using MlModels.PowerShell.Internal;

namespace MlModels.PowerShell.Commands;

/// <summary>
/// MLflow's <c>mlflow sagemaker run-local</c>: the serving image with the model mounted at /opt/ml/model, the
/// environment SageMaker sets, <c>serve</c> as the argument and port 8080 published on -Port; returns the container.
/// </summary>
[Cmdlet(VerbsLifecycle.Start, "MLModelSageMakerLocal", SupportsShouldProcess = true, DefaultParameterSetName = "Model")]
[OutputType(typeof(MLModelContainer))]
public sealed class StartMLModelSageMakerLocalCommand : DockerCmdlet
{
    [Parameter(ParameterSetName = "Model", Mandatory = true, ValueFromPipeline = true)]
    public MLModel? Model { get; set; }

    [Parameter(ParameterSetName = "Path", Mandatory = true, Position = 0)]
    [Alias("ModelPath", "ModelUri")]
    public string? Path { get; set; }

    /// <summary>The serving image (default mlflow-pyfunc:&lt;module version&gt;, as Publish-MLModelSageMakerImage builds it).</summary>
    [Parameter]
    [Alias("ImageUrl")]
    public string? Image { get; set; }

    /// <summary>The host port for the container's 8080 (MLflow's default 5000).</summary>
    [Parameter]
    [ValidateRange(0, 65535)]
    public int Port { get; set; } = 5000;

    [Parameter]
    [ValidateSet("python_function")]
    public string? Flavor { get; set; }

    /// <summary>More environment variables for the model, as -Environment gives them on SageMaker.</summary>
    [Parameter]
    [Alias("Env")]
    public Hashtable? Environment { get; set; }

    [Parameter]
    [ValidateRange(1, 3600)]
    public int StartTimeoutSec { get; set; } = 120;

    protected override void ProcessRecord()
    {
        var model = ModelFromArguments(Model, Path);
        if (model == null) return;
        var image = Image ?? $"{SageMakerNames.DefaultImageRepository}:{SageMakerDeployer.ImageTag}";
        ContainerRunOptions options;
        try
        {
            options = SageMakerImages.LocalRun(model, image, Port, Flavor, StringMap(Environment)) with
            {
                StartTimeout = TimeSpan.FromSeconds(
                StartTimeoutSec)
            };
        }
        catch (ArgumentException ex) { WriteError(Errors.Record(ex, "InvalidModel", ErrorCategory.InvalidArgument, model)); return; }
        if (!ShouldProcess($"127.0.0.1:{Port}", $"Run {image} with model '{model.Name}' as SageMaker would")) return;
        StartContainer(options, ProgressIds.StartSageMakerLocal, "Start-MLModelSageMakerLocal", model);
    }
}
