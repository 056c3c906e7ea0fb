using System.Management.Automation;
using MlModels.Deploy.Kubernetes;
using MlModels.PowerShell.Internal;

namespace MlModels.PowerShell.Commands;

/// <summary>Deletes a model deployment: every object of that name this module manages (InferenceService, Deployment, Service, HPA).</summary>
[Cmdlet(VerbsCommon.Remove, "MLModelKubernetesDeployment", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(string))]
public sealed class RemoveMLModelKubernetesDeploymentCommand : KubernetesCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    public string Name { get; set; } = "";

    /// <summary>Write each object deleted, as Kind/name.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        try { KubernetesNames.ValidateName(Name); }
        catch (ArgumentException ex)
        {
            WriteError(Errors.Record(ex, "InvalidKubernetesDeployment", ErrorCategory.InvalidArgument, Name));
            return;
        }
        using var target = OpenTarget();
        if (!ShouldProcess($"model deployment '{Name}' in namespace '{target.Namespace}' of {target.Where}",
            "Delete its InferenceService, or its Deployment, Service and HorizontalPodAutoscaler")) return;
        if (!TryRun("Remove-MLModelKubernetesDeployment", Name,
            (progress, ct) => target.DeleteAsync(new KubernetesDeleteOptions(Name), progress, ct), out var removal)) return;
        if (!removal.Found)
        {
            WriteError(Errors.Record(new ItemNotFoundException($"There is no model deployment named '{Name}' in namespace '{target.Namespace}'."),
                "KubernetesDeploymentNotFound", ErrorCategory.ObjectNotFound, Name));
            return;
        }
        foreach (var deleted in (IEnumerable<string>)removal.Resource!)
        {
            WriteVerbose("Deleted " + deleted);
            if (PassThru) WriteObject(deleted);
        }
    }
}
