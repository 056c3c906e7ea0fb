using System.Management.Automation;
using MlModels.Deploy.AzureML;
using MlModels.PowerShell.Internal;

namespace MlModels.PowerShell.Commands;

/// <summary>Gets an Azure ML endpoint (online or batch) with its deployments, or every online endpoint of the workspace.</summary>
[Cmdlet(VerbsCommon.Get, "MLModelAzureMLEndpoint")]
[OutputType(typeof(AzureMLEndpoint))]
public sealed class GetMLModelAzureMLEndpointCommand : AzureMLCmdlet
{
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("EndpointName")]
    public string? Name { get; set; }

    protected override void ProcessRecord()
    {
        using var connection = Connect(Workspace());
        var deployer = connection.Deployer;
        
        {
            if (Name == null)
            {
                WriteObject(RunAzure(null, ct => deployer.ListAsync(ct)), enumerateCollection: true);
                return;
            }
            var endpoint = RunAzure(Name, ct => deployer.GetAsync(Name, ct));
            if (endpoint == null)
                WriteError(Errors.Record(new ItemNotFoundException($"There is no endpoint '{Name}' in the workspace {WorkspaceName}."), "AzureMLEndpointNotFound", ErrorCategory.ObjectNotFound, Name));
            else WriteObject(endpoint);
        }
    }
}
