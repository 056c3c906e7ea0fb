using System.Collections;
using System.Management.Automation;
using MlModels.Core.Format;
using MlModels.PowerShell.Internal;

namespace MlModels.PowerShell.Commands;

/// <summary>Creates a new in-memory model, stamped with a creation time and a uuid; add flavors, then save it.</summary>
[Cmdlet(VerbsCommon.New, "MLModel")]
[OutputType(typeof(MLModel))]
public sealed class NewMLModelCommand : MLModelCmdlet
{
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? RunId { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? ArtifactPath { get; set; }

    [Parameter]
    public Hashtable? Metadata { get; set; }

    /// <summary>Recorded as mlflow_version, for tools that check which MLflow the model targets.</summary>
    [Parameter]
    public string? MlflowVersion { get; set; }

    protected override void ProcessRecord()
    {
        try
        {
            var metadata = Metadata == null ? null : (IDictionary<string, object?>?)ToPlain(Metadata);
            var model = MLModel.Create(RunId, ArtifactPath, metadata);
            if (MlflowVersion != null) model.MlflowVersion = MlflowVersion;
            WriteObject(model);
        }
        catch (ArgumentException ex)
        {
            ThrowTerminatingError(Errors.Record(ex, "InvalidMetadata", ErrorCategory.InvalidArgument, Metadata));
        }
    }
}
