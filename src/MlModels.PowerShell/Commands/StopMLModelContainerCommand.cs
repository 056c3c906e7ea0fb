using System.Management.Automation;
using MlModels.Deploy.Docker;
using MlModels.PowerShell.Internal;

namespace MlModels.PowerShell.Commands;

/// <summary>Stops model containers (SIGTERM: requests in flight finish) and removes them unless -Keep.</summary>
[Cmdlet(VerbsLifecycle.Stop, "MLModelContainer", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(MLModelContainer))]
public sealed class StopMLModelContainerCommand : DockerCmdlet
{
    /// <summary>Container names or ids, or containers from Get-MLModelContainer / Start-MLModelContainer.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("Id")]
    public string[] Name { get; set; } = [];

    /// <summary>Leave the stopped container in place (its logs stay readable).</summary>
    [Parameter]
    public SwitchParameter Keep { get; set; }

    /// <summary>Seconds the server has to finish requests in flight before it is killed.</summary>
    [Parameter]
    [ValidateRange(1, 3600)]
    public int TimeoutSec { get; set; } = 30;

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var name in Name)
        {
            if (!ShouldProcess(name, Keep ? "Stop the model container" : "Stop and remove the model container")) continue;
            try
            {
                var removal = WithTarget((docker, ct) =>
                    docker.DeleteAsync(new DockerDeleteOptions(name) { Keep = Keep, Grace = TimeSpan.FromSeconds(TimeoutSec) }, null, ct));
                if (!removal.Found)
                {
                    WriteError(DockerErrors.Record(new DockerObjectNotFoundException($"There is no model container '{name}'."), name)!);
                    continue;
                }
                WriteVerbose($"Stopped {name}{(Keep ? "" : " and removed it")}.");
                if (PassThru && removal.Resource != null) WriteObject(removal.Resource);
            }
            catch (Exception ex) when (ex is not PipelineStoppedException && DockerErrors.Record(ex, name) is { } record)
            {
                WriteError(record);
            }
        }
    }
}
