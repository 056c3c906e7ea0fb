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
        using var target = OpenTarget(Workspace());
        if (Name == null)
        {
            foreach (var d in RunAzure(null, ct => target.ListAsync(ct))) WriteObject(d.Own);
            return;
        }
        var endpoint = RunAzure(Name, ct => target.GetAsync(Name, ct));
        if (endpoint == null)
            WriteError(Errors.Record(new ItemNotFoundException($"There is no endpoint '{Name}' in the workspace {WorkspaceName}."),
                "AzureMLEndpointNotFound", ErrorCategory.ObjectNotFound, Name));
        else WriteObject(endpoint.Own);
    }
}
