using System.Management.Automation;
using MlModels.Core.Serving;
using MlModels.PowerShell.Internal;

namespace MlModels.PowerShell.Commands;

/// <summary>Stops scoring servers started from any session: gracefully (requests in flight finish), ending the process
/// only past the grace period.</summary>
[Cmdlet(VerbsLifecycle.Stop, "MLModelServer", SupportsShouldProcess = true, DefaultParameterSetName = "Object")]
[OutputType(typeof(MLModelServerInfo))]
public sealed class StopMLModelServerCommand : MLModelCmdlet
{
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = "Object")]
    public MLModelServerInfo[] InputObject { get; set; } = [];

    [Parameter(Mandatory = true, ParameterSetName = "Port")]
    public int[] Port { get; set; } = [];

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        var targets = ParameterSetName == "Port" ? ServerRegistry.List().Where(s => Port.Contains(s.Port)).ToArray() : InputObject;
        if (ParameterSetName == "Port")
            foreach (var p in Port.Where(p => targets.All(t => t.Port != p)))
                WriteError(Errors.Record(
                    new ItemNotFoundException($"No running MlModels server listens on port {p}."),
                    "ServerNotFound",
                    ErrorCategory.ObjectNotFound,
                    p));
        foreach (var server in targets)
        {
            if (!ShouldProcess(server.ToString(), "Stop the scoring server")) continue;
            var graceful = ServerSessions.Launcher.Stop(server, TimeSpan.FromSeconds(30));
            WriteVerbose(graceful
                ? $"Stopped {server} after in-flight requests finished."
                : $"Ended the process of {server}: it did not stop within 30 seconds.");
            if (PassThru) WriteObject(server);
        }
    }
}
