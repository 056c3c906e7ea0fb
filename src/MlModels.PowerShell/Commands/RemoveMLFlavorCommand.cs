using System.Management.Automation;
using MlModels.Core.Format;
using MlModels.PowerShell.Internal;

namespace MlModels.PowerShell.Commands;

/// <summary>Removes flavors from a model in memory; Save-MLModel writes the change.</summary>
[Cmdlet(VerbsCommon.Remove, "MLFlavor", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(MLModel))]
public sealed class RemoveMLFlavorCommand : MLModelCmdlet
{
    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    [Alias("Model")]
    public MLModel InputObject { get; set; } = null!;

    [Parameter(Mandatory = true, Position = 0)]
    [ArgumentCompleter(typeof(FlavorNameCompleter))]
    [SupportsWildcards]
    public string[] Name { get; set; } = [];

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var pattern in Name)
        {
            var wildcard = WildcardPattern.Get(pattern, WildcardOptions.None);
            var matches = InputObject.FlavorNames.Where(wildcard.IsMatch).ToList();
            if (matches.Count == 0 && !WildcardPattern.ContainsWildcardCharacters(pattern))
                WriteError(Errors.Record(
                    new ItemNotFoundException($"Model '{InputObject.Name}' has no flavor named '{pattern}'."),
                    "FlavorNotFound",
                    ErrorCategory.ObjectNotFound,
                    pattern));
            foreach (var flavor in matches)
                if (ShouldProcess(InputObject.Name, $"Remove flavor '{flavor}'")) InputObject.RemoveFlavor(flavor);
        }
        if (PassThru) WriteObject(InputObject);
    }
}
