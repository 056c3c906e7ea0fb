using System.Collections;
using System.Management.Automation;
using MlModels.Deploy.AzureML;
using MlModels.PowerShell.Internal;

namespace MlModels.PowerShell.Commands;

/// <summary>Sets an online endpoint's traffic split across its deployments (e.g. @{ blue = 90; green = 10 }).</summary>
[Cmdlet(VerbsCommon.Set, "MLModelAzureMLEndpoint", SupportsShouldProcess = true)]
[OutputType(typeof(AzureMLEndpoint))]
public sealed class SetMLModelAzureMLEndpointCommand : AzureMLCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("EndpointName")]
    public string Name { get; set; } = "";

    [Parameter(Mandatory = true)]
    public Hashtable Traffic { get; set; } = null!;

    protected override void ProcessRecord()
    {
        Dictionary<string, int> traffic;
        try
        {
            traffic = PublishMLModelAzureMLCommand.TrafficOf(Traffic);
            AzureMLDeployer.CheckTraffic(traffic);
        }
        catch (ArgumentException ex) { ThrowTerminatingError(Errors.Record(ex, "InvalidTraffic", ErrorCategory.InvalidArgument, Traffic)); return; }
        var workspace = Workspace();
        if (!ShouldProcess($"{Name} ({workspace})", "Set traffic " + string.Join(", ", traffic.Select(kv => $"{kv.Key}={kv.Value}")))) return;
        using var target = OpenTarget(workspace);
        var progress = ProgressFor(ProgressIds.SetAzureMLTraffic);
        WriteObject(RunAzure(Name, ct => target.SetTrafficAsync(Name, traffic, progress, ct)));
    }
}
