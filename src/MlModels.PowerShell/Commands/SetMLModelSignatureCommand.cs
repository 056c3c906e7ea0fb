using System.Collections;
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

    /// <summary>A CSV file path, or objects/hashtables whose properties are the columns; types are inferred as MLflow's infer_signature does.</summary>
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
                SchemaSet => new ModelSignature(SchemaBinding.ToSchema(Inputs, "Inputs"), SchemaBinding.ToSchema(Outputs, "Outputs"), SchemaBinding.ToParams(Params)),
                InferSet => new ModelSignature(Infer(), SchemaBinding.ToSchema(Outputs, "Outputs"), SchemaBinding.ToParams(Params)),
                _ => null,
            };
        }
        catch (Exception ex) when (ex is MLModelFormatException or ArgumentException or IOException)
        {
            ThrowTerminatingError(Errors.Record(ex, "InvalidSignature", ErrorCategory.InvalidArgument, ParameterSetName == JsonSet ? Json : InputObject));
            return;
        }
        var action = signature == null ? "Remove the signature" : $"Set signature {signature}";
        if (ShouldProcess(InputObject.Name, action)) InputObject.Signature = signature;
        if (PassThru) WriteObject(InputObject);
    }

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

/// <summary>Turns parameter values (spec objects or hashtables) into schema objects.</summary>
internal static class SchemaBinding
{
    public static Schema? ToSchema(object[]? items, string parameter)
    {
        if (items == null) return null;
        var values = items.Select(MLModelCmdlet.Unwrap).ToList();
        if (values.Count == 1 && values[0] is Schema s) return s;
        var cols = new List<ColumnSpec>();
        var tensors = new List<TensorSpec>();
        foreach (var v in values)
        {
            switch (v)
            {
                case ColumnSpec c: cols.Add(c); break;
                case TensorSpec t: tensors.Add(t); break;
                case IDictionary d when Get(d, "dtype") != null || Get(d, "shape") != null || (Get(d, "type") as string) == "tensor":
                    tensors.Add(new TensorSpec(Get(d, "name") as string, Get(d, "dtype") as string ?? throw new ArgumentException($"{parameter}: a tensor spec needs a dtype."),
                        ((IEnumerable?)MLModelCmdlet.Unwrap(Get(d, "shape")) ?? Array.Empty<object>()).Cast<object>().Select(x => Convert.ToInt64(MLModelCmdlet.Unwrap(x), System.Globalization.CultureInfo.InvariantCulture))));
                    break;
                case IDictionary d:
                {
                    var typeName = Get(d, "type") as string;
                    if (!DataTypes.TryParse(typeName, out var type))
                        throw new ArgumentException($"{parameter}: '{typeName}' is not an MLflow column type (boolean, integer, long, float, double, string, binary, datetime).");
                    var required = Get(d, "required") is not bool r || r;
                    cols.Add(new ColumnSpec(Get(d, "name")?.ToString(), type, required));
                    break;
                }
                case string name:
                    cols.Add(new ColumnSpec(name, DataType.Double));
                    break;
                default:
                    throw new ArgumentException($"{parameter}: cannot make a column or tensor spec from a {v?.GetType().Name ?? "null"}.");
            }
        }
        if (cols.Count > 0 && tensors.Count > 0) throw new ArgumentException($"{parameter}: mix of column and tensor specs; MLflow allows one kind per schema.");
        return tensors.Count > 0 ? new Schema(tensors) : new Schema(cols);
    }

    public static ParamSchema? ToParams(object[]? items)
    {
        if (items == null) return null;
        return new ParamSchema(items.Select(MLModelCmdlet.Unwrap).Select(v => v switch
        {
            ParamSpec p => p,
            IDictionary d when DataTypes.TryParse(Get(d, "type") as string, out var t) =>
                new ParamSpec(Get(d, "name") as string ?? throw new ArgumentException("Params: a param spec needs a name."), t, MLModelCmdlet.ToPlain(Get(d, "default")),
                    Get(d, "shape") is IEnumerable sh ? sh.Cast<object>().Select(x => Convert.ToInt64(MLModelCmdlet.Unwrap(x), System.Globalization.CultureInfo.InvariantCulture)).ToArray() : null),
            _ => throw new ArgumentException("Params: each param needs a name, an MLflow type and a default."),
        }));
    }

    private static object? Get(IDictionary d, string key)
    {
        foreach (DictionaryEntry e in d)
            if (string.Equals(e.Key?.ToString(), key, StringComparison.OrdinalIgnoreCase)) return MLModelCmdlet.Unwrap(e.Value);
        return null;
    }
}
