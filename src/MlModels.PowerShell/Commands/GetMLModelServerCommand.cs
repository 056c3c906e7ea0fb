using System.Management.Automation;
using MlModels.Core.Serving;
using MlModels.PowerShell.Internal;

namespace MlModels.PowerShell.Commands;

/// <summary>Lists the scoring servers started with Start-MLModelServer -Background or -Detached, from any session, that are still running.</summary>
[Cmdlet(VerbsCommon.Get, "MLModelServer")]
[OutputType(typeof(MLModelServerInfo))]
public sealed class GetMLModelServerCommand : MLModelCmdlet
{
    [Parameter(Position = 0)]
    public int[]? Port { get; set; }

    [Parameter]
    [Alias("Id")]
    public int[]? ProcessId { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var s in ServerRegistry.List())
        {
            if (Port != null && !Port.Contains(s.Port)) continue;
            if (ProcessId != null && !ProcessId.Contains(s.ProcessId)) continue;
            WriteObject(s);
        }
    }
}
