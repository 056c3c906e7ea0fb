using System.Management.Automation;
using MlModels.Core.Format;
using MlModels.PowerShell.Internal;

namespace MlModels.PowerShell.Commands;

/// <summary>Checks a model: files flavors name exist inside the folder, pyfunc can load, signature and example agree, legacy layouts.</summary>
[Cmdlet(VerbsDiagnostic.Test, "MLModel", DefaultParameterSetName = ModelSet)]
[OutputType(typeof(ValidationResult), typeof(bool))]
public sealed class TestMLModelCommand : MLModelCmdlet
{
    private const string ModelSet = "Model";
    private const string PathSet = "Path";
    private const string LiteralSet = "LiteralPath";

    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = ModelSet)]
    [Alias("Model")]
    public MLModel InputObject { get; set; } = null!;

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = PathSet)]
    [SupportsWildcards]
    public string[] Path { get; set; } = [];

    [Parameter(Mandatory = true, ParameterSetName = LiteralSet, ValueFromPipelineByPropertyName = true)]
    [Alias("PSPath", "LP")]
    public string[] LiteralPath { get; set; } = [];

    /// <summary>Returns only $true (valid) or $false.</summary>
    [Parameter]
    public SwitchParameter Quiet { get; set; }

    protected override void ProcessRecord()
    {
        if (ParameterSetName == ModelSet) { Emit(ModelValidator.Validate(InputObject)); return; }
        bool literal = ParameterSetName == LiteralSet;
        foreach (var path in ResolveExisting(literal ? LiteralPath : Path, literal))
        {
            MLModel model;
            try { model = ModelStore.Load(path); }
            catch (Exception ex) when (ExpectedFailure.Is(ex))
            {
                // A model that cannot be read is not valid; -Quiet answers that without an error.
                if (Quiet) WriteObject(false);
                else WriteError(Errors.FromException(ex, path, reading: true));
                continue;
            }
            Emit(ModelValidator.Validate(model));
        }
    }

    private void Emit(ValidationResult result)
    {
        if (Quiet) WriteObject(result.IsValid);
        else WriteObject(result);
    }
}
