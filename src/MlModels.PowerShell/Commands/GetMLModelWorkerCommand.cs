using System.Management.Automation;
using MlModels.Core.Scoring.Python;
using MlModels.PowerShell.Internal;

namespace MlModels.PowerShell.Commands;

/// <summary>Lists the Python workers this session keeps warm for Invoke-MLModelPrediction, most recently used first.</summary>
[Cmdlet(VerbsCommon.Get, "MLModelWorker")]
[OutputType(typeof(CachedPythonWorker))]
public sealed class GetMLModelWorkerCommand : MLModelCmdlet
{
    /// <summary>Model folders (wildcards) whose workers to list.</summary>
    [Parameter(Position = 0)]
    public string[]? Path { get; set; }

    /// <summary>Model folders, taken as written.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [Alias("PSPath", "ModelPath")]
    public string[]? LiteralPath { get; set; }

    protected override void ProcessRecord()
    {
        var match = WorkerFilter.For(this, Path, LiteralPath);
        foreach (var worker in PythonWorkerCache.Shared.List().Where(match)) WriteObject(worker);
    }
}
