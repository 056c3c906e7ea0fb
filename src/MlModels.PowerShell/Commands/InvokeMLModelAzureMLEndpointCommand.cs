using System.Collections;
using System.Management.Automation;
using System.Text;
using System.Text.Json;
using MlModels.Deploy;
using MlModels.PowerShell.Internal;

namespace MlModels.PowerShell.Commands;

/// <summary>
/// Scores rows on an Azure ML online endpoint. Piped objects are sent in Azure ML's MLflow request form,
/// {"input_data": {"columns", "index", "data"}, "params"}; -InputJson sends a request file as it is.
/// </summary>
[Cmdlet(VerbsLifecycle.Invoke, "MLModelAzureMLEndpoint", DefaultParameterSetName = ObjectSet, SupportsShouldProcess = true)]
[OutputType(typeof(PSObject))]
public sealed class InvokeMLModelAzureMLEndpointCommand : AzureMLCmdlet
{
    private const string ObjectSet = "Object";
    private const string JsonSet = "Json";
    private readonly List<object?> _rows = [];

    [Parameter(Mandatory = true, Position = 0)]
    [Alias("EndpointName")]
    public string Name { get; set; } = "";

    [Parameter(Mandatory = true, ParameterSetName = ObjectSet, ValueFromPipeline = true)]
    public object InputObject { get; set; } = null!;

    /// <summary>A JSON request file in Azure ML's form, sent as it is.</summary>
    [Parameter(Mandatory = true, ParameterSetName = JsonSet)]
    public string InputJson { get; set; } = "";

    [Parameter(ParameterSetName = ObjectSet)]
    public Hashtable? Params { get; set; }

    /// <summary>Sends the request to this deployment instead of the endpoint's traffic split.</summary>
    [Parameter]
    public string? DeploymentName { get; set; }

    protected override void ProcessRecord()
    {
        if (ParameterSetName == ObjectSet) _rows.Add(ToPlain(InputObject));
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
            try { body = RequestBody(_rows, Params == null ? null : ToPlain(Params) as IDictionary<string, object?>); }
            catch (ArgumentException ex) { ThrowTerminatingError(Errors.Record(ex, "InvalidInput", ErrorCategory.InvalidData, null)); return; }
        }
        var workspace = Workspace();
        if (!ShouldProcess($"{Name} ({workspace})", $"Score {(ParameterSetName == JsonSet ? "the request in " + InputJson : _rows.Count + " rows")}")) return;
        using var connection = Connect(workspace);
        var deployer = connection.Deployer;
        
        {
            var response = RunAzure(Name, ct => deployer.InvokeAsync(Name, new PredictionRequest(body, "application/json"), DeploymentName, ct));
            var text = Encoding.UTF8.GetString(response.Body.Span);
            if (response.StatusCode != 200)
            {
                ThrowTerminatingError(Errors.Record(new InvalidOperationException($"The endpoint '{Name}' answered {response.StatusCode}: {text}"), "AzureMLScoringFailed", ErrorCategory.InvalidResult, Name));
                return;
            }
            WritePredictions(text);
        }
    }

    /// <summary>Rows (dictionaries) as {"input_data": {"columns", "index", "data"}} with the columns in first-seen order.</summary>
    internal static byte[] RequestBody(IReadOnlyList<object?> rows, IDictionary<string, object?>? parameters)
    {
        var columns = new List<string>();
        foreach (var row in rows)
        {
            if (row is not IDictionary<string, object?> d) throw new ArgumentException($"Each input row must be an object with named properties, not '{row}'.");
            foreach (var k in d.Keys) if (!columns.Contains(k)) columns.Add(k);
        }
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            w.WritePropertyName("input_data");
            w.WriteStartObject();
            w.WriteStartArray("columns");
            foreach (var c in columns) w.WriteStringValue(c);
            w.WriteEndArray();
            w.WriteStartArray("index");
            for (int i = 0; i < rows.Count; i++) w.WriteNumberValue(i);
            w.WriteEndArray();
            w.WriteStartArray("data");
            foreach (var row in rows.Cast<IDictionary<string, object?>>()) // each checked above
            {
                w.WriteStartArray();
                foreach (var c in columns) WriteValue(w, row.TryGetValue(c, out var v) ? v : null);
                w.WriteEndArray();
            }
            w.WriteEndArray();
            w.WriteEndObject();
            if (parameters != null)
            {
                w.WritePropertyName("params");
                WriteValue(w, parameters);
            }
            w.WriteEndObject();
        }
        return stream.ToArray();
    }

    private static void WriteValue(Utf8JsonWriter w, object? v)
    {
        switch (v)
        {
            case null: w.WriteNullValue(); break;
            case string s: w.WriteStringValue(s); break;
            case bool b: w.WriteBooleanValue(b); break;
            case int or long or short or byte or sbyte or uint or ushort: w.WriteNumberValue(Convert.ToInt64(v, System.Globalization.CultureInfo.InvariantCulture)); break;
            case ulong u: w.WriteNumberValue(u); break;
            case float or double or decimal: w.WriteNumberValue(Convert.ToDouble(v, System.Globalization.CultureInfo.InvariantCulture)); break;
            case DateTime dt: w.WriteStringValue(dt.ToString("o", System.Globalization.CultureInfo.InvariantCulture)); break;
            case IDictionary<string, object?> d:
                w.WriteStartObject();
                foreach (var (k, x) in d) { w.WritePropertyName(k); WriteValue(w, x); }
                w.WriteEndObject();
                break;
            case IEnumerable e:
                w.WriteStartArray();
                foreach (var x in e) WriteValue(w, x);
                w.WriteEndArray();
                break;
            default: w.WriteStringValue(Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture)); break;
        }
    }

    /// <summary>A list of values: one object per row with a 'prediction' property; a list of records: one object each.</summary>
    private void WritePredictions(string json)
    {
        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("predictions", out var p)) root = p;
        if (root.ValueKind != JsonValueKind.Array) { WriteObject(ToObject(root)); return; }
        foreach (var item in root.EnumerateArray())
        {
            var value = ToObject(item);
            if (value is PSObject) WriteObject(value);
            else
            {
                var obj = new PSObject();
                obj.Properties.Add(new PSNoteProperty("prediction", value));
                WriteObject(obj);
            }
        }
    }

    private static object? ToObject(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => e.EnumerateObject().Aggregate(new PSObject(), (o, p) => { o.Properties.Add(new PSNoteProperty(p.Name, ToObject(p.Value))); return o; }),
        JsonValueKind.Array => e.EnumerateArray().Select(ToObject).ToArray(),
        JsonValueKind.String => e.GetString(),
        JsonValueKind.Number => e.TryGetInt64(out var l) ? l : e.GetDouble(),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => null,
    };
}
