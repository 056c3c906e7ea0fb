using System.Management.Automation;
using MlModels.Deploy.SageMaker;
using MlModels.PowerShell.Internal;

namespace MlModels.PowerShell.Commands;

/// <summary>
/// MLflow's <c>mlflow sagemaker terminate-transform-job</c>: StopTransformJob, then wait until the job has stopped and
/// delete the model it ran and its model data (-Archive keeps them; -NoWait returns at once and needs -Archive).
/// </summary>
[Cmdlet(VerbsLifecycle.Stop, "MLModelSageMakerTransform", SupportsShouldProcess = true)]
[OutputType(typeof(SageMakerTransformJob))]
public sealed class StopMLModelSageMakerTransformCommand : AwsCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("TransformJobName")]
    public string JobName { get; set; } = "";

    /// <summary>Keep the job's model and its model data in S3.</summary>
    [Parameter]
    public SwitchParameter Archive { get; set; }

    /// <summary>Return once the stop is asked for (needs -Archive: nothing is cleaned up).</summary>
    [Parameter]
    public SwitchParameter NoWait { get; set; }

    /// <summary>Seconds to wait for the job to stop.</summary>
    [Parameter]
    [Alias("TimeoutSeconds")]
    [ValidateRange(1, 86_400)]
    public int Timeout { get; set; } = 1200;

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        if (NoWait && !Archive)
        {
            WriteError(Errors.Record(new ArgumentException(
                "Without waiting for the job to stop, its model cannot be cleaned up: wait for it or keep the model with -Archive."),
                "InvalidTransform", ErrorCategory.InvalidArgument, JobName));
            return;
        }
        if (!ShouldProcess($"SageMaker transform job '{JobName}'", Archive ? "Stop" : "Stop, then delete its model and model data")) return;
        using var target = OpenTarget();
        var transforms = target.Transforms;
        if (!TryRun("Stop-MLModelSageMakerTransform", JobName, (progress, ct) =>
            transforms.TerminateAsync(
                JobName,
                Archive,
                !NoWait,
                TimeSpan.FromSeconds(Timeout),
                TimeSpan.FromSeconds(10),
                progress,
                ct), out var job, terminating: false)) return;
        foreach (var c in job.CleanedUp) WriteVerbose("Deleted " + c);
        if (PassThru) WriteObject(job);
    }
}
