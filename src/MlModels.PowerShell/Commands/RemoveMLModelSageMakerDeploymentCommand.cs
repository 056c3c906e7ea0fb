using System.Management.Automation;
using MlModels.Deploy.SageMaker;
using MlModels.PowerShell.Internal;

namespace MlModels.PowerShell.Commands;

/// <summary>MLflow's <c>mlflow sagemaker delete</c>: the endpoint, then its configuration and models (-Archive keeps
/// them; -IncludeModelData also deletes their model.tar.gz).</summary>
[Cmdlet(VerbsCommon.Remove, "MLModelSageMakerDeployment", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(SageMakerRemoval))]
public sealed class RemoveMLModelSageMakerDeploymentCommand : AwsCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("EndpointName", "Name")]
    public string AppName { get; set; } = "";

    /// <summary>Keep the endpoint configuration and models; delete only the endpoint.</summary>
    [Parameter]
    public SwitchParameter Archive { get; set; }

    /// <summary>Also delete each model's model.tar.gz from S3.</summary>
    [Parameter]
    public SwitchParameter IncludeModelData { get; set; }

    [Parameter]
    [Alias("TimeoutSeconds")]
    [ValidateRange(1, 86_400)]
    public int Timeout { get; set; } = 300;

    /// <summary>Write what was deleted and kept.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        var what = Archive ? "Delete the endpoint (keeping its configuration and models)" : IncludeModelData
            ? "Delete the endpoint, its configuration, its models and their model data in S3" : "Delete the endpoint, its " +
                "configuration and its models";
        if (!ShouldProcess($"SageMaker endpoint '{AppName}'", what)) return;
        using var target = OpenTarget();
        var options = new SageMakerDeleteOptions(AppName)
        {
            Archive = Archive,
            IncludeModelData = IncludeModelData,
            Timeout = TimeSpan.FromSeconds(Timeout)
        };
        if (!TryRun(
            "Remove-MLModelSageMakerDeployment",
            AppName,
            (progress, ct) => target.DeleteAsync(options, progress, ct),
            out var result,
            terminating: false)) return;
        var removal = (SageMakerRemoval)result.Resource!;
        foreach (var d in removal.Deleted) WriteVerbose("Deleted " + d);
        foreach (var k in removal.Kept) WriteVerbose("Kept " + k);
        if (PassThru) WriteObject(removal);
    }
}
