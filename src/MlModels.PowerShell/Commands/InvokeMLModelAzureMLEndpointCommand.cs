using System.Collections;
using System.Management.Automation;
using System.Text;
using MlModels.Deploy;
using MlModels.Deploy.Endpoints;
using MlModels.PowerShell.Internal;

namespace MlModels.PowerShell.Commands;

/// <summary>
/// Scores rows on an Azure ML online endpoint. Piped objects are sent in Azure ML's MLflow request form,
/// {"input_data": {"columns", "index", "data"}, "params"}; -InputJson sends a request file (Azure ML's form or MLflow's).
/// </summary>
[Cmdlet(VerbsLifecycle.Invoke, "MLModelAzureMLEndpoint", DefaultParameterSetName = ObjectSet, SupportsShouldProcess = true)]
[OutputType(typeof(PSObject))]
public sealed class InvokeMLModelAzureMLEndpointCommand : AzureMLCmdlet
{
    private const string ObjectSet = "Object";
    private const string JsonSet = "Json";
    private readonly List<IReadOnlyList<KeyValuePair<string, object?>>> _rows = [];

    [Parameter(Mandatory = true, Position = 0)]
    [Alias("EndpointName")]
    public string Name { get; set; } = "";

    [Parameter(Mandatory = true, ParameterSetName = ObjectSet, ValueFromPipeline = true)]
    public object InputObject { get; set; } = null!;

    /// <summary>A JSON request file in Azure ML's form (or one of MLflow's, which is mapped onto it).</summary>
    [Parameter(Mandatory = true, ParameterSetName = JsonSet)]
    public string InputJson { get; set; } = "";

    [Parameter(ParameterSetName = ObjectSet)]
    public Hashtable? Params { get; set; }

    /// <summary>Sends the request to this deployment instead of the endpoint's traffic split.</summary>
    [Parameter]
    public string? DeploymentName { get; set; }

    protected override void ProcessRecord()
    {
        if (ParameterSetName != ObjectSet) return;
        if (Unwrap(InputObject) is string or ValueType)
        {
            ThrowTerminatingError(Errors.Record(
                new ArgumentException($"Each input row must be an object with named properties, not '{InputObject}'."),
                "InvalidInput",
                ErrorCategory.InvalidData,
                InputObject));
        }
        _rows.Add(RowOf(InputObject).Select(kv => KeyValuePair.Create(kv.Key, ToPlain(kv.Value))).ToList());
    }

    protected override void EndProcessing()
    {
        byte[] body;
        if (ParameterSetName == JsonSet)
        {
            var file = ResolveExisting([InputJson], literal: false).FirstOrDefault();
            if (file == null) return;
            body = File.ReadAllBytes(file);
        }
        else
        {
            if (_rows.Count == 0) return;
            try
            {
                body = ScoringBodies.DataframeSplit(
                _rows,
                Params == null ? null : ToPlain(Params) as IReadOnlyDictionary<string, object?>,
                withIndex: true);
            }
            catch (ArgumentException ex)
            {
                ThrowTerminatingError(Errors.Record(ex, "InvalidInput", ErrorCategory.InvalidData, null));
                return;
            }
        }
        var workspace = Workspace();
        var what = ParameterSetName == JsonSet ? "the request in " + InputJson : _rows.Count + " rows";
        if (!ShouldProcess($"{Name} ({workspace})", $"Score {what}")) return;
        using var target = OpenTarget(workspace);
        var response = RunAzure(Name, ct => target.PredictAsync(Name, new PredictionRequest(body, "application/json"), DeploymentName, ct));
        if (response.StatusCode != 200)
        {
            var text = Encoding.UTF8.GetString(response.Body.Span);
            ThrowTerminatingError(Errors.Record(new InvalidOperationException($"The endpoint '{Name}' answered {response.StatusCode}: {text}"),
                "AzureMLScoringFailed", ErrorCategory.InvalidResult, Name));
            return;
        }
        // A list of values: one object per row with a 'prediction' property; a list of records: one object each.
        foreach (var item in ScoringBodies.Predictions(response.Body))
        {
            var value = ToPSObject(item);
            if (value is PSObject) WriteObject(value);
            else
            {
                var obj = new PSObject();
                obj.Properties.Add(new PSNoteProperty("prediction", value));
                WriteObject(obj);
            }
        }
    }
}
