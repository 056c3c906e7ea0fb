using System.Collections;
using System.Management.Automation;
using MlModels.Core.Format;
using MlModels.Core.Tracking;
using MlModels.PowerShell.Internal;

namespace MlModels.PowerShell.Commands;

/// <summary>
/// Logs a model to a run (MLflow's log_model) and optionally registers it (register_model), waits until the version is
/// READY, then sets aliases and tags. -WhatIf lists the REST calls it would make.
/// </summary>
[Cmdlet(VerbsData.Publish, "MLModel", SupportsShouldProcess = true, DefaultParameterSetName = ExperimentSet)]
[OutputType(typeof(ModelVersion), typeof(PublishResult))]
public sealed class PublishMLModelCommand : TrackingCmdlet
{
    private const string ExperimentSet = "Experiment";
    private const string RunSet = "Run";

    /// <summary>The model: from Get-MLModel (a folder or a registry download) or built in memory and saved.</summary>
    [Parameter(ValueFromPipeline = true)]
    public MLModel? Model { get; set; }

    /// <summary>The model folder, when not piped.</summary>
    [Parameter(Position = 0)]
    public string? Path { get; set; }

    /// <summary>The experiment a new run is started in (created when missing), as mlflow.set_experiment.</summary>
    [Parameter(Mandatory = true, ParameterSetName = ExperimentSet)]
    [ValidateNotNullOrEmpty]
    public string Experiment { get; set; } = "";

    [Parameter(ParameterSetName = ExperimentSet)]
    public string? RunName { get; set; }

    /// <summary>An existing run to log the model to.</summary>
    [Parameter(Mandatory = true, ParameterSetName = RunSet, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string RunId { get; set; } = "";

    /// <summary>Where in the run's artifacts the model goes (MLflow's artifact_path).</summary>
    [Parameter]
    public string ArtifactPath { get; set; } = "model";

    /// <summary>Registers the logged model as a new version of this registered model (created when missing).</summary>
    [Parameter]
    [ArgumentCompleter(typeof(RegisteredModelNameCompleter))]
    public string? RegisteredModelName { get; set; }

    /// <summary>Aliases to point at the new version.</summary>
    [Parameter]
    public string[] Alias { get; set; } = [];

    /// <summary>Tags for the new version.</summary>
    [Parameter]
    public Hashtable? Tag { get; set; }

    /// <summary>How long to wait for the new version to be READY.</summary>
    [Parameter]
    [ValidateRange(1, 86400)]
    public int TimeoutSec { get; set; } = 300;

    protected override void ProcessRecord()
    {
        var model = ModelFromArguments(Model, Path);
        if (model == null) return;
        var request = new PublishRequest
        {
            Model = model,
            RunId = ParameterSetName == RunSet ? RunId : null,
            ExperimentName = ParameterSetName == ExperimentSet ? Experiment : null,
            RunName = RunName,
            ArtifactPath = ArtifactPath,
            RegisteredModelName = RegisteredModelName,
            Aliases = Alias,
            Tags = Tag?.Cast<DictionaryEntry>().ToDictionary(e => e.Key.ToString()!, e => Unwrap(e.Value)?.ToString() ?? "") ?? [],
            UserId = UserName(),
            SourceName = string.IsNullOrEmpty(MyInvocation.ScriptName) ? "pwsh" : MyInvocation.ScriptName,
            RegistrationTimeout = TimeSpan.FromSeconds(TimeoutSec),
        };

        IReadOnlyList<PlannedCall> plan;
        try { plan = ModelPublisher.Plan(request); }
        catch (ArgumentException ex) { WriteError(Errors.Record(ex, "InvalidPublishRequest", ErrorCategory.InvalidArgument, model)); return; }
        // -WhatIf lists every call; otherwise one confirmation covers the publish.
        var where = request.RunId != null ? $"run {request.RunId}" : $"a new run in experiment '{request.ExperimentName}'";
        var what = $"Log model '{model.Name}' to {where}" + (RegisteredModelName != null ? $" and register it as '{RegisteredModelName}'" : "");
        if (!ShouldProcess(what, what, "Publish-MLModel", out var reason))
        {
            if (reason == ShouldProcessReason.WhatIf)
                foreach (var call in plan) ShouldProcess(
                    $"{call.Method} {call.Endpoint}: {call.Target}",
                    $"{call.Method} {call.Endpoint}",
                    call.Target);
            return;
        }

        var progress = new ProgressRecord(ProgressIds.PublishModel, "Publish-MLModel", what);
        var publisher = new ModelPublisher(Client, msg => Post(() => WriteWarning(msg)))
        {
            Repositories = MlModels.Deploy.Artifacts.CloudArtifactStores.All(Client),
        };
        var result = Call(model, (_, ct) => publisher.PublishAsync(request, new SyncProgress<PublishProgress>(p => Post(() =>
        {
            progress.StatusDescription = p.File == null ? p.Step : $"{p.Step}: {p.File}";
            progress.PercentComplete = p.FilesTotal > 0 ? Math.Min(100, 100 * p.FilesDone / p.FilesTotal) : -1;
            WriteProgress(progress);
        })), ct));
        progress.RecordType = ProgressRecordType.Completed;
        WriteProgress(progress);
        if (result == null) return;
        WriteVerbose(
            $"Logged to run {result.RunId} at {result.ArtifactUri}" + (result.Version != null ? $"; registered as {result.Version.ModelUri}." : "."));
        WriteObject(result.Version != null ? result.Version : result);
    }

    /// <summary>The user MLflow's client records (getpass.getuser: LOGNAME, USER, LNAME, USERNAME, then the account).</summary>
    private static string UserName()
    {
        foreach (var v in new[] { "LOGNAME", "USER", "LNAME", "USERNAME" })
            if (Environment.GetEnvironmentVariable(v) is { Length: > 0 } u) return u;
        return Environment.UserName;
    }
}
