using System.Management.Automation;
using MlModels.Deploy.AzureML;
using MlModels.PowerShell.Internal;

namespace MlModels.PowerShell.Commands;

/// <summary>Gets a batch scoring job's state (Jobs_Get).</summary>
[Cmdlet(VerbsCommon.Get, "MLModelAzureMLBatchJob")]
[OutputType(typeof(BatchJobResource))]
public sealed class GetMLModelAzureMLBatchJobCommand : AzureMLCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("JobName")]
    public string Name { get; set; } = "";

    protected override void ProcessRecord()
    {
        using var target = OpenTarget(Workspace());
        WriteObject(RunAzure(Name, ct => target.GetBatchJobAsync(Name, ct)));
    }
}
