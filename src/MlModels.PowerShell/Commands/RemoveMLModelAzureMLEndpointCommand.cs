using System.Management.Automation;
using MlModels.Deploy.AzureML;
using MlModels.PowerShell.Internal;

namespace MlModels.PowerShell.Commands;

/// <summary>Deletes an Azure ML endpoint with its deployments, or one deployment of it (-DeploymentName).</summary>
[Cmdlet(VerbsCommon.Remove, "MLModelAzureMLEndpoint", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(void))]
public sealed class RemoveMLModelAzureMLEndpointCommand : AzureMLCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("EndpointName")]
    public string Name { get; set; } = "";

    [Parameter]
    public string? DeploymentName { get; set; }

    protected override void ProcessRecord()
    {
        var workspace = Workspace();
        var what = DeploymentName == null
            ? $"Delete endpoint '{Name}' and its deployments"
            : $"Delete deployment '{DeploymentName}' of endpoint '{Name}'";
        if (!ShouldProcess($"{Name} ({workspace})", what)) return;
        using var target = OpenTarget(workspace);
        {
            var progress = ProgressFor(ProgressIds.RemoveAzureML);
            var removal = RunAzure(Name, ct => target.DeleteAsync(new AzureMLDeleteOptions(Name) { DeploymentName = DeploymentName }, progress, ct));
            if (!removal.Found)
                WriteError(Errors.Record(new ItemNotFoundException(
                    DeploymentName == null ? $"There is no endpoint '{Name}'." : $"There is no deployment '{DeploymentName}' of endpoint '{Name}'."),
                    "AzureMLEndpointNotFound", ErrorCategory.ObjectNotFound, Name));
        }
    }
}
