using System.Management.Automation;
using MlModels.Deploy.SageMaker;
using MlModels.PowerShell.Internal;

namespace MlModels.PowerShell.Commands;

/// <summary>Stops a running SageMaker batch transform job (StopTransformJob).</summary>
[Cmdlet(VerbsLifecycle.Stop, "MLModelSageMakerTransform", SupportsShouldProcess = true)]
[OutputType(typeof(SageMakerTransformJob))]
public sealed class StopMLModelSageMakerTransformCommand : AwsCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("TransformJobName")]
    public string JobName { get; set; } = "";

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        if (!ShouldProcess($"SageMaker transform job '{JobName}'", "Stop")) return;
        using var connection = OpenConnection();
        var transforms = new SageMakerTransforms(connection);
        if (!TryRun("Stop-MLModelSageMakerTransform", JobName, async (_, ct) => { await transforms.StopAsync(JobName, ct); return PassThru ? await transforms.GetAsync(JobName, ct) : null; },
            out var job, terminating: false)) return;
        if (PassThru && job != null) WriteObject(job);
    }
}
