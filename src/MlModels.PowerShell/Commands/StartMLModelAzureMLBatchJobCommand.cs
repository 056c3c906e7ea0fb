using System.Management.Automation;
using MlModels.Deploy.AzureML;
using MlModels.PowerShell.Internal;

namespace MlModels.PowerShell.Commands;

/// <summary>Starts a batch scoring job on a batch endpoint over a folder (or file) of data in Azure storage.</summary>
[Cmdlet(VerbsLifecycle.Start, "MLModelAzureMLBatchJob", SupportsShouldProcess = true)]
[OutputType(typeof(BatchJobResource))]
public sealed class StartMLModelAzureMLBatchJobCommand : AzureMLCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("Name")]
    public string EndpointName { get; set; } = "";

    /// <summary>The data to score: an azureml:// datastore path or an https URL.</summary>
    [Parameter(Mandatory = true)]
    public Uri InputUri { get; set; } = null!;

    /// <summary>UriFolder (a folder of files, the default) or UriFile.</summary>
    [Parameter]
    [ValidateSet("UriFolder", "UriFile")]
    public string InputType { get; set; } = "UriFolder";

    protected override void ProcessRecord()
    {
        var workspace = Workspace();
        if (!ShouldProcess($"{EndpointName} ({workspace})", $"Start a batch scoring job over {InputUri}")) return;
        using var target = OpenTarget(workspace);
        WriteObject(RunAzure(EndpointName, ct => target.StartBatchJobAsync(EndpointName, InputUri.ToString(), InputType, ct)));
    }
}
