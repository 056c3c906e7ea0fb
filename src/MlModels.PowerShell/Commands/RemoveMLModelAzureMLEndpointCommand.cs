using System.Management.Automation;
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
        var what = DeploymentName == null ? $"Delete endpoint '{Name}' and its deployments" : $"Delete deployment '{DeploymentName}' of endpoint '{Name}'";
        if (!ShouldProcess($"{Name} ({workspace})", what)) return;
        using var connection = Connect(workspace);
        var deployer = connection.Deployer;
        
        {
            var progress = ProgressFor(2);
            var removed = RunAzure(Name, ct => deployer.RemoveAsync(Name, DeploymentName, progress, ct));
            if (!removed)
                WriteError(Errors.Record(new ItemNotFoundException(DeploymentName == null ? $"There is no endpoint '{Name}'." : $"There is no deployment '{DeploymentName}' of endpoint '{Name}'."),
                    "AzureMLEndpointNotFound", ErrorCategory.ObjectNotFound, Name));
        }
    }
}
