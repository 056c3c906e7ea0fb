using System.Management.Automation;
using MlModels.Core.Scoring.Python;
using MlModels.PowerShell.Internal;

namespace MlModels.PowerShell.Commands;

/// <summary>Stops the warm Python workers of this session (all, or those of the given model folders); the next call starts a new one.</summary>
[Cmdlet(VerbsCommon.Clear, "MLModelWorkerCache", SupportsShouldProcess = true, DefaultParameterSetName = "Path")]
[OutputType(typeof(CachedPythonWorker))]
public sealed class ClearMLModelWorkerCacheCommand : MLModelCmdlet
{
    /// <summary>Model folders (wildcards) whose workers to stop; none: every warm worker.</summary>
    [Parameter(Position = 0, ParameterSetName = "Path")]
    public string[]? Path { get; set; }

    /// <summary>Model folders, taken as written (workers piped from Get-MLModelWorker bind here by ModelPath).</summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = "LiteralPath")]
    [Alias("PSPath", "ModelPath")]
    public string[]? LiteralPath { get; set; }

    /// <summary>Writes the workers that were stopped.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        var match = WorkerFilter.For(this, Path, LiteralPath);
        // Asked before anything stops, so no prompt waits while the cache is locked.
        var approved = PythonWorkerCache.Shared.List().Where(match)
            .Where(w => ShouldProcess($"Python worker {w.ProcessId} for '{w.ModelPath}'", "Stop the warm worker"))
            .Select(w => w.ProcessId).ToHashSet();
        if (approved.Count == 0) return;
        foreach (var stopped in PythonWorkerCache.Shared.Clear(w => approved.Contains(w.ProcessId)))
        {
            WriteVerbose(
                $"Stopped Python worker {stopped.ProcessId} for '{stopped.ModelPath}'{(stopped.InUse ? " (it ends when its call does)" : "")}.");
            if (PassThru) WriteObject(stopped);
        }
    }
}
