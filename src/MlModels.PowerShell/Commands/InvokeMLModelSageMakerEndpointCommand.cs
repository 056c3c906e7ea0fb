using System.Management.Automation;
using System.Text;
using MlModels.Deploy;
using MlModels.Deploy.Endpoints;
using MlModels.PowerShell.Internal;

namespace MlModels.PowerShell.Commands;

/// <summary>
/// sagemaker-runtime InvokeEndpoint with an MLflow JSON or CSV body, or pipeline objects (sent as dataframe_split);
/// the predictions come back as objects. -Uri sends the same request to a container run locally (its /invocations).
/// </summary>
[Cmdlet(VerbsLifecycle.Invoke, "MLModelSageMakerEndpoint", DefaultParameterSetName = ObjectSet, SupportsShouldProcess = true)]
[OutputType(typeof(PSObject))]
public sealed class InvokeMLModelSageMakerEndpointCommand : AwsCmdlet
{
    private const string ObjectSet = "Object";
    private const string JsonSet = "Json";
    private const string CsvSet = "Csv";
    private const string BodySet = "Body";
    private readonly List<IReadOnlyList<KeyValuePair<string, object?>>> _rows = [];

    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("AppName", "Name")]
    public string? EndpointName { get; set; }

    /// <summary>A SageMaker-contract container's address (run-local), instead of an endpoint name.</summary>
    [Parameter]
    public Uri? Uri { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = ObjectSet, ValueFromPipeline = true)]
    public object InputObject { get; set; } = null!;

    /// <summary>A file holding an MLflow JSON request (dataframe_split, dataframe_records, instances or inputs).</summary>
    [Parameter(Mandatory = true, ParameterSetName = JsonSet)]
    public string InputJson { get; set; } = "";

    [Parameter(Mandatory = true, ParameterSetName = CsvSet)]
    public string InputCsv { get; set; } = "";

    [Parameter(Mandatory = true, ParameterSetName = BodySet)]
    public string Body { get; set; } = "";

    [Parameter(ParameterSetName = BodySet)]
    public string ContentType { get; set; } = "application/json";

    [Parameter]
    public string? TargetVariant { get; set; }

    /// <summary>Write the answer's text as it came.</summary>
    [Parameter]
    public SwitchParameter Raw { get; set; }

    protected override void BeginProcessing()
    {
        if ((EndpointName == null) == (Uri == null))
            ThrowTerminatingError(
                Errors.Record(new ArgumentException("Give either -EndpointName or -Uri."), "TargetRequired", ErrorCategory.InvalidArgument, null));
    }

    protected override void ProcessRecord()
    {
        switch (ParameterSetName)
        {
            case ObjectSet:
                if (InputObject != null) _rows.Add(RowOf(InputObject));
                return;
            case JsonSet:
            case CsvSet:
                var file = ResolveExisting([ParameterSetName == JsonSet ? InputJson : InputCsv], literal: false).FirstOrDefault();
                if (file != null) Send(File.ReadAllBytes(file), ParameterSetName == JsonSet ? "application/json" : "text/csv");
                return;
            default:
                Send(Encoding.UTF8.GetBytes(Body), ContentType);
                return;
        }
    }

    protected override void EndProcessing()
    {
        if (ParameterSetName == ObjectSet && _rows.Count > 0) Send(ScoringBodies.DataframeSplit(_rows), "application/json");
    }

    private void Send(byte[] body, string contentType)
    {
        var request = new PredictionRequest(body, contentType);
        var target = (object?)EndpointName ?? Uri;
        // An invocation is billed and may have effects in the model's code: -WhatIf shows what would be sent.
        if (!ShouldProcess(target!.ToString(), $"Send a {body.Length:N0}-byte {contentType} scoring request")) return;
        PredictionResponse? answer;
        if (Uri != null)
        {
            // A container on this machine (Start-MLModelSageMakerLocal) answers at its own address, not through AWS.
            using var local = new InvocationsClient(InvocationsClient.DefaultTimeout);
            if (!TryRun(
                "Invoke-MLModelSageMakerEndpoint",
                target,
                (_, ct) => local.PostAsync(Uri, request, ct),
                out answer,
                terminating: false)) return;
        }
        else
        {
            using var sagemaker = OpenTarget();
            if (!TryRun("Invoke-MLModelSageMakerEndpoint", target, (_, ct) => sagemaker.PredictAsync(EndpointName!, request, TargetVariant, ct),
                out answer, terminating: false)) return;
        }
        var text = Encoding.UTF8.GetString(answer.Body.Span);
        if (answer.StatusCode >= 400)
        {
            WriteError(Errors.Record(
                new InvalidOperationException($"The model answered HTTP {answer.StatusCode}: {text}"),
                "PredictionFailed",
                ErrorCategory.InvalidResult,
                target));
            return;
        }
        if (Raw || answer.ContentType?.Contains("json", StringComparison.OrdinalIgnoreCase) != true) { WriteObject(text); return; }
        foreach (var item in ScoringBodies.Predictions(answer.Body)) WriteObject(ToPSObject(item));
    }
}
