using System.Management.Automation;
using MlModels.Core.Format;
using MlModels.PowerShell.Internal;

namespace MlModels.PowerShell.Commands;

/// <summary>Reads a model's environment files (python_env.yaml, conda.yaml, requirements.txt) as objects.</summary>
[Cmdlet(VerbsCommon.Get, "MLModelEnvironment")]
[OutputType(typeof(ModelEnvironment))]
public sealed class GetMLModelEnvironmentCommand : MLModelCmdlet
{
    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    [Alias("Model")]
    public MLModel InputObject { get; set; } = null!;

    protected override void ProcessRecord()
    {
        try { WriteObject(EnvironmentFiles.Read(InputObject)); }
        catch (Exception ex) when (ExpectedFailure.Is(ex))
        {
            WriteError(Errors.FromException(ex, InputObject, reading: true));
        }
    }
}
