using System.Management.Automation;
using MlModels.Core.Format;
using MlModels.PowerShell.Internal;

namespace MlModels.PowerShell.Commands;

/// <summary>Reads a model's saved input example: one object per row for a dataframe example, else the JSON value.</summary>
[Cmdlet(VerbsCommon.Get, "MLModelInputExample")]
[OutputType(typeof(PSObject))]
public sealed class GetMLModelInputExampleCommand : MLModelCmdlet
{
    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    [Alias("Model")]
    public MLModel InputObject { get; set; } = null!;

    /// <summary>Returns the InputExample object itself (type, columns, rows, data) instead of rows.</summary>
    [Parameter]
    public SwitchParameter Raw { get; set; }

    protected override void ProcessRecord()
    {
        if (InputObject.SavedInputExampleInfo == null)
        {
            WriteError(Errors.Record(
                new ItemNotFoundException($"Model '{InputObject.Name}' has no saved input example."),
                "NoInputExample",
                ErrorCategory.ObjectNotFound,
                InputObject));
            return;
        }
        InputExample example;
        try { example = InputExample.Read(InputObject); }
        catch (Exception ex) when (ExpectedFailure.Is(ex))
        {
            WriteError(Errors.FromException(ex, InputObject, reading: true));
            return;
        }
        if (Raw || example.Rows == null) { WriteObject(Raw ? example : example.Data, enumerateCollection: !Raw); return; }
        foreach (var row in example.Rows)
        {
            var obj = new PSObject();
            for (int i = 0; i < example.Columns!.Count; i++)
                obj.Properties.Add(new PSNoteProperty(example.Columns[i], i < row.Length ? row[i] : null));
            WriteObject(obj);
        }
    }
}
