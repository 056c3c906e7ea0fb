using System.Collections;
using System.Management.Automation;
using MlModels.Core.Format;
using MlModels.PowerShell.Internal;

namespace MlModels.PowerShell.Commands;

/// <summary>Adds a flavor (name and attributes) to a model in memory; Save-MLModel writes it.</summary>
[Cmdlet(VerbsCommon.Add, "MLFlavor", SupportsShouldProcess = true)]
[OutputType(typeof(MLModel))]
public sealed class AddMLFlavorCommand : MLModelCmdlet
{
    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    [Alias("Model")]
    public MLModel InputObject { get; set; } = null!;

    [Parameter(Mandatory = true, Position = 0)]
    [ArgumentCompleter(typeof(FlavorNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string Name { get; set; } = "";

    /// <summary>The flavor's attributes: any value YAML can hold (text, numbers, booleans, lists, hashtables).</summary>
    [Parameter(Position = 1)]
    public Hashtable? Attributes { get; set; }

    /// <summary>Replaces a flavor of the same name.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        if (!ShouldProcess(InputObject.Name, $"Add flavor '{Name}'")) { if (PassThru) WriteObject(InputObject); return; }
        try
        {
            var attrs = Attributes == null ? null : (IDictionary<string, object?>?)ToPlain(Attributes);
            InputObject.AddFlavor(Name, attrs, Force);
        }
        catch (InvalidOperationException ex)
        {
            WriteError(Errors.Record(ex, "FlavorExists", ErrorCategory.ResourceExists, InputObject));
            return;
        }
        catch (ArgumentException ex)
        {
            WriteError(Errors.Record(ex, "InvalidFlavorAttributes", ErrorCategory.InvalidArgument, Attributes));
            return;
        }
        if (PassThru) WriteObject(InputObject);
    }
}
