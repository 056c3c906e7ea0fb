using System.Management.Automation;
using MlModels.Core.Format;
using MlModels.PowerShell.Internal;

namespace MlModels.PowerShell.Commands;

/// <summary>Sets a model's signature from MLflow signature JSON, from column/tensor specs, or by inferring it from data.</summary>
[Cmdlet(VerbsCommon.Set, "MLModelSignature", SupportsShouldProcess = true, DefaultParameterSetName = SchemaSet)]
[OutputType(typeof(MLModel))]
public sealed class SetMLModelSignatureCommand : MLModelCmdlet
{
    private const string JsonSet = "Json";
    private const string SchemaSet = "Schema";
    private const string InferSet = "Infer";
    private const string ClearSet = "Clear";

    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    [Alias("Model")]
    public MLModel InputObject { get; set; } = null!;

    /// <summary>MLflow's signature JSON: {"inputs": "[...]", "outputs": "[...]"} or a bare list of input specs.</summary>
    [Parameter(Mandatory = true, ParameterSetName = JsonSet, Position = 0)]
    public string Json { get; set; } = "";

    /// <summary>Input specs: ColumnSpec/TensorSpec objects, a Schema, or hashtables like @{name='x'; type='double'}.</summary>
    [Parameter(Mandatory = true, ParameterSetName = SchemaSet)]
    public object[] Inputs { get; set; } = [];

    [Parameter(ParameterSetName = SchemaSet)]
    [Parameter(ParameterSetName = InferSet)]
    public object[]? Outputs { get; set; }

    /// <summary>Param specs: ParamSpec objects or hashtables like @{name='k'; type='long'; default=5}.</summary>
    [Parameter(ParameterSetName = SchemaSet)]
    [Parameter(ParameterSetName = InferSet)]
    public object[]? Params { get; set; }

    /// <summary>A CSV file path, or objects/hashtables whose properties are the columns; types are inferred as MLflow's
    /// infer_signature does.</summary>
    [Parameter(Mandatory = true, ParameterSetName = InferSet)]
    public object[] InferFrom { get; set; } = [];

    /// <summary>Removes the signature.</summary>
    [Parameter(Mandatory = true, ParameterSetName = ClearSet)]
    public SwitchParameter Clear { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        ModelSignature? signature;
        try
        {
            signature = ParameterSetName switch
            {
                JsonSet => ModelSignature.ParseJson(Json),
                SchemaSet => new ModelSignature(
                    SchemaSpecs.ToSchema(Plain(Inputs), "inputs"),
                    SchemaSpecs.ToSchema(Plain(Outputs), "outputs"),
                    SchemaSpecs.ToParams(Plain(Params))),
                InferSet => new ModelSignature(Infer(), SchemaSpecs.ToSchema(Plain(Outputs), "outputs"), SchemaSpecs.ToParams(Plain(Params))),
                _ => null,
            };
        }
        catch (Exception ex) when (ex is MLModelFormatException or ArgumentException or IOException)
        {
            ThrowTerminatingError(
                Errors.Record(ex, "InvalidSignature", ErrorCategory.InvalidArgument, ParameterSetName == JsonSet ? Json : InputObject));
            return;
        }
        var action = signature == null ? "Remove the signature" : $"Set signature {signature}";
        if (ShouldProcess(InputObject.Name, action)) InputObject.Signature = signature;
        if (PassThru) WriteObject(InputObject);
    }

    private static IEnumerable<object?>? Plain(object[]? items) => items?.Select(i => ToPlain(i));

    private Schema Infer()
    {
        if (InferFrom.Length == 1 && Unwrap(InferFrom[0]) is string path)
        {
            var file = ResolveExisting([path], literal: false).FirstOrDefault()
                ?? throw new FileNotFoundException($"Cannot infer a signature: '{path}' was not found.", path);
            return SignatureInference.FromCsv(file);
        }
        return SignatureInference.FromRows(InferFrom.Select(RowOf));
    }
}
