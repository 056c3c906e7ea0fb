using System.Management.Automation;
using System.Text;
using MlModels.Deploy;
using MlModels.Deploy.Endpoints;
using MlModels.PowerShell.Internal;

namespace MlModels.PowerShell.Commands;

/// <summary>
/// Scores through the Open Inference Protocol (V2 REST): POST {Uri}/v2/models/{ModelName}/infer, at an InferenceService's
/// status.url or a Service address the caller reaches. Pipeline objects and CSV rows go as one input per column; -InputJson
/// is a V2 request sent as it is. Each row of the outputs comes back as an object.
/// </summary>
[Cmdlet(VerbsLifecycle.Invoke, "MLModelKubernetesEndpoint", DefaultParameterSetName = ObjectSet, SupportsShouldProcess = true)]
[OutputType(typeof(PSObject))]
public sealed class InvokeMLModelKubernetesEndpointCommand : MLModelCmdlet
{
    private const string ObjectSet = "Object";
    private const string JsonSet = "Json";
    private const string CsvSet = "Csv";
    private readonly List<IReadOnlyList<KeyValuePair<string, object?>>> _rows = [];

    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("Url")]
    public Uri Uri { get; set; } = null!;

    /// <summary>The V2 model name (MLMODELS_MODEL_NAME in the container; Publish's -ModelName, else its -Name).</summary>
    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
    public string ModelName { get; set; } = "";

    [Parameter(Mandatory = true, ParameterSetName = ObjectSet, ValueFromPipeline = true)]
    public object InputObject { get; set; } = null!;

    [Parameter(Mandatory = true, ParameterSetName = JsonSet)]
    public string InputJson { get; set; } = "";

    [Parameter(Mandatory = true, ParameterSetName = CsvSet)]
    public string InputCsv { get; set; } = "";

    [Parameter]
    [ValidateRange(1, 3600)]
    public int TimeoutSec { get; set; } = 120;

    /// <summary>Write the answer's text as it came.</summary>
    [Parameter]
    public SwitchParameter Raw { get; set; }

    protected override void ProcessRecord()
    {
        if (ParameterSetName == ObjectSet)
        {
            if (InputObject != null) _rows.Add(RowOf(InputObject));
            return;
        }
        var file = ResolveExisting([ParameterSetName == JsonSet ? InputJson : InputCsv], literal: false).FirstOrDefault();
        if (file == null) return;
        byte[] body;
        try
        {
            if (ParameterSetName == JsonSet)
            {
                body = File.ReadAllBytes(file);
                ScoringBodies.CheckInferenceRequest(body);
            }
            else body = ScoringBodies.InferenceRequestFromCsv(File.ReadAllText(file), InputTypes());
        }
        catch (ArgumentException ex)
        {
            WriteError(Errors.Record(ex, "InvalidInferenceRequest", ErrorCategory.InvalidData, file));
            return;
        }
        Send(body);
    }

    protected override void EndProcessing()
    {
        if (ParameterSetName != ObjectSet || _rows.Count == 0) return;
        byte[] body;
        try { body = ScoringBodies.InferenceRequest(_rows, InputTypes()); }
        catch (ArgumentException ex)
        {
            WriteError(Errors.Record(ex, "InvalidInferenceRequest", ErrorCategory.InvalidData, null));
            return;
        }
        Send(body);
    }

    /// <summary>The model's input datatypes from its metadata, so columns go as the model takes them; null where it gives none.</summary>
    private IReadOnlyDictionary<string, string>? InputTypes()
    {
        try
        {
            using var client = new OpenInferenceClient(TimeSpan.FromSeconds(TimeoutSec));
            return RunPumped(ct => client.InputTypesAsync(Uri, ModelName, ct).GetAwaiter().GetResult());
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            WriteVerbose($"No model metadata from {Uri}: {ex.Message}; the columns are typed from their values.");
            return null;
        }
    }

    private void Send(byte[] body)
    {
        var address = OpenInferenceClient.InferUri(Uri, ModelName);
        if (!ShouldProcess(address.ToString(), $"Send a {body.Length:N0}-byte Open Inference request")) return;
        PredictionResponse answer;
        try
        {
            using var client = new OpenInferenceClient(TimeSpan.FromSeconds(TimeoutSec));
            answer = RunPumped(ct => client.InferAsync(Uri, ModelName, new PredictionRequest(body, "application/json"), ct).GetAwaiter().GetResult());
        }
        catch (Exception ex) when (KubernetesCmdlet.ToRecord(ex, address) is { } error)
        {
            WriteError(error);
            return;
        }
        var text = Encoding.UTF8.GetString(answer.Body.Span);
        if (answer.StatusCode >= 400)
        {
            WriteError(Errors.Record(new InvalidOperationException($"The model answered HTTP {answer.StatusCode}: {text}"), "PredictionFailed",
                ErrorCategory.InvalidResult, address));
            return;
        }
        if (Raw)
        {
            WriteObject(text);
            return;
        }
        try
        {
            foreach (var row in ScoringBodies.InferenceRows(answer.Body)) WriteObject(ToPSObject(row));
        }
        catch (Exception ex) when (ex is InvalidDataException or System.Text.Json.JsonException or KeyNotFoundException or InvalidOperationException)
        {
            WriteError(Errors.Record(ex, "InferenceAnswerUnreadable", ErrorCategory.InvalidResult, address));
        }
    }
}
