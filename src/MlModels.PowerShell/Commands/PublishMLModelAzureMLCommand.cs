using System.Collections;
using System.Management.Automation;
using MlModels.Core.Format;
using MlModels.Deploy;
using MlModels.Deploy.AzureML;
using MlModels.PowerShell.Internal;

namespace MlModels.PowerShell.Commands;

/// <summary>Deploys a model to an Azure ML managed online endpoint (a batch endpoint with -Batch, local Docker with -Local).</summary>
[Cmdlet(VerbsData.Publish, "MLModelAzureML", SupportsShouldProcess = true, DefaultParameterSetName = OnlineSet)]
[OutputType(typeof(AzureMLEndpoint))]
public sealed class PublishMLModelAzureMLCommand : AzureMLCmdlet
{
    private const string OnlineSet = "Online";
    private const string BatchSet = "Batch";
    private const string LocalSet = "Local";

    [Parameter(Mandatory = true, ParameterSetName = OnlineSet, ValueFromPipelineByPropertyName = true)]
    [Parameter(Mandatory = true, ParameterSetName = BatchSet, ValueFromPipelineByPropertyName = true)]
    [Parameter(ParameterSetName = LocalSet, ValueFromPipelineByPropertyName = true)]
    public override string ResourceGroupName { get; set; } = "";

    [Parameter(Mandatory = true, ParameterSetName = OnlineSet, ValueFromPipelineByPropertyName = true)]
    [Parameter(Mandatory = true, ParameterSetName = BatchSet, ValueFromPipelineByPropertyName = true)]
    [Parameter(ParameterSetName = LocalSet, ValueFromPipelineByPropertyName = true)]
    public override string WorkspaceName { get; set; } = "";

    [Parameter(ValueFromPipeline = true)]
    public MLModel? Model { get; set; }

    [Parameter]
    [Alias("ModelPath")]
    public string? Path { get; set; }

    [Parameter(Mandatory = true)]
    [Alias("Name")]
    public string EndpointName { get; set; } = "";

    [Parameter]
    public string DeploymentName { get; set; } = "blue";

    [Parameter]
    public string? ModelName { get; set; }

    [Parameter]
    public string? ModelVersion { get; set; }

    [Parameter]
    public string InstanceType { get; set; } = "Standard_DS3_v2";

    [Parameter]
    [ValidateRange(1, 1000)]
    public int InstanceCount { get; set; } = 1;

    /// <summary>Traffic per deployment once this one is up, e.g. @{ blue = 90; green = 10 }.</summary>
    [Parameter(ParameterSetName = OnlineSet)]
    public Hashtable? Traffic { get; set; }

    [Parameter(ParameterSetName = OnlineSet)]
    [ValidateSet("Key", "AMLToken", "AADToken")]
    public string AuthMode { get; set; } = "Key";

    [Parameter]
    public string? Description { get; set; }

    /// <summary>Deploys score.py with its environment (code configuration and environment version) instead of no-code.</summary>
    [Parameter(ParameterSetName = OnlineSet)]
    public SwitchParameter ScoringScript { get; set; }

    /// <summary>With -ScoringScript: a folder with score.py and environment/conda.yaml (an Export-MLModelAzureML folder).</summary>
    [Parameter(ParameterSetName = OnlineSet)]
    public string? CodePath { get; set; }

    /// <summary>With -ScoringScript: the environment's base image.</summary>
    [Parameter(ParameterSetName = OnlineSet)]
    public string? EnvironmentImage { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = BatchSet)]
    public SwitchParameter Batch { get; set; }

    /// <summary>The compute cluster a batch deployment runs on.</summary>
    [Parameter(Mandatory = true, ParameterSetName = BatchSet)]
    public string ComputeName { get; set; } = "";

    [Parameter(ParameterSetName = BatchSet)]
    [ValidateRange(1, 100_000)]
    public int MiniBatchSize { get; set; } = 10;

    /// <summary>Runs the model's image in local Docker, answering Azure ML's contract (GET /, POST /score on 5001).</summary>
    [Parameter(Mandatory = true, ParameterSetName = LocalSet)]
    public SwitchParameter Local { get; set; }

    /// <summary>The image to run (Build-MLModelImage's); default: the model's image, built first.</summary>
    [Parameter(ParameterSetName = LocalSet)]
    [Alias("ImageName")]
    public string? Image { get; set; }

    /// <summary>The host port for the container's 5001.</summary>
    [Parameter(ParameterSetName = LocalSet)]
    [ValidateRange(0, 65535)]
    public int Port { get; set; } = AzureMLLocal.Port;

    [Parameter(ParameterSetName = LocalSet)]
    public string? BaseImage { get; set; }

    [Parameter(ParameterSetName = LocalSet)]
    public string? DotnetImage { get; set; }

    /// <summary>Install MLflow into the local image even where the worker's own loader scores the model.</summary>
    [Parameter(ParameterSetName = LocalSet)]
    public SwitchParameter InstallMlflow { get; set; }

    /// <summary>A folder of wheels to install the model's requirements from, with no package index.</summary>
    [Parameter(ParameterSetName = LocalSet)]
    public string? Wheelhouse { get; set; }

    [Parameter(ParameterSetName = LocalSet)]
    public string? DockerHost { get; set; }

    [Parameter(ParameterSetName = LocalSet)]
    [ValidateRange(1, 3600)]
    public int StartTimeoutSec { get; set; } = 120;

    protected override void ProcessRecord()
    {
        var model = ModelFromArguments(Model, Path);
        if (model?.Path == null)
        {
            if (model != null) WriteError(Errors.Record(
                new InvalidOperationException("The model has not been saved; save it (Save-MLModel) before publishing it."),
                "ModelNotSaved",
                ErrorCategory.InvalidArgument,
                model));
            return;
        }
        if (Local)
        {
            PublishLocal(model);
            return;
        }
        var request = new AzureMLPublishRequest(model.Path, EndpointName)
        {
            DeploymentName = DeploymentName, ModelName = ModelName, ModelVersion = ModelVersion, InstanceType = InstanceType,
            InstanceCount = InstanceCount, AuthMode = AuthMode, Description = Description, Batch = Batch, ComputeName = Batch ? ComputeName : null,
            MiniBatchSize = MiniBatchSize, Traffic = Traffic == null ? null : TrafficOf(Traffic),
            ScoringScript = ScoringScript || CodePath != null,
            CodePath = CodePath == null ? null : GetResolvedProviderPathFromPSPath(CodePath, out _).FirstOrDefault(),
            EnvironmentImage = EnvironmentImage ?? AzureMLExportOptions.DefaultImage,
        };
        // The plan needs neither sign-in nor a subscription: -WhatIf shows it as it is, with a placeholder where none is known.
        var workspace = Workspace(required: false);
        using var target = OpenTarget(workspace);
        DeploymentPlan plan;
        // Names, traffic and the model's servability are checked before sign-in or any call.
        try { plan = target.PlanAsync(request, CancellationToken.None).GetAwaiter().GetResult(); }
        catch (Exception ex) when (ex is ArgumentException or NotSupportedException or FileNotFoundException)
        {
            ThrowTerminatingError(ex switch
            {
                NotSupportedException => AzureError(ex, model.Path),
                FileNotFoundException f => Errors.Record(ex, "ScoringScriptNotFound", ErrorCategory.ObjectNotFound, f.FileName),
                _ => Errors.Record(ex, "InvalidAzureMLName", ErrorCategory.InvalidArgument, EndpointName),
            });
            return;
        }
        if (!ShouldProcessCalls($"Deploy model '{model.Name}' to Azure ML endpoint '{EndpointName}' as '{DeploymentName}' ({workspace})", plan.Calls,
            $"Deploy model '{model.Name}' to endpoint '{EndpointName}' as '{DeploymentName}'?", "Publish-MLModelAzureML")) return;
        if (workspace.SubscriptionId == AzureMLWorkspace.UnknownSubscription) Workspace(required: true);

        var progress = ProgressFor(ProgressIds.PublishAzureML);
        var result = RunAzure(EndpointName, ct => target.DeployAsync(plan, progress, ct));
        WriteProgress(new ProgressRecord(ProgressIds.PublishAzureML, "Publishing to Azure ML", "Done") { RecordType = ProgressRecordType.Completed });
        WriteObject(result.Own);
    }

    private void PublishLocal(MLModel model)
    {
        var request = new AzureMLLocalRequest(EndpointName)
        {
            DeploymentName = DeploymentName, Image = Image, HostPort = Port, StartTimeout = TimeSpan.FromSeconds(StartTimeoutSec),
            Build = new Deploy.Docker.DockerContextOptions
            {
                BaseImage = BaseImage, DotnetImage = DotnetImage ?? Deploy.Docker.DockerContextOptions.DefaultDotnetImage,
                InstallMlflow = InstallMlflow, Wheelhouse = Wheelhouse == null ? null : GetUnresolvedProviderPathFromPSPath(Wheelhouse),
            },
        };
        try { AzureMLNames.CheckEndpoint(EndpointName); AzureMLNames.CheckResource("deployment", DeploymentName); }
        catch (ArgumentException ex) { ThrowTerminatingError(Errors.Record(ex, "InvalidAzureMLName", ErrorCategory.InvalidArgument, EndpointName)); }
        var what = Image == null ? $"Build the image of model '{model.Name}' and run it" : $"Run {Image} with model '{model.Name}'";
        if (!ShouldProcess(
            $"local endpoint {EndpointName} on 127.0.0.1:{Port}",
            what + " as Azure ML's inference server (GET /, POST /score)")) return;
        var progress = ProgressFor(ProgressIds.PublishAzureMLLocal);
        try
        {
            var endpoint = RunPumped(ct =>
            {
                using var docker = DeploymentTargetFactory.Default
                    .Create<Deploy.Docker.DockerDeploymentTarget>(Deploy.Docker.DockerDeploymentTarget.TargetName,
                        new Deploy.Docker.DockerTargetSettings(DockerHost) { Log = line => Post(() => WriteVerbose(line)) });
                return AzureMLLocal.PublishAsync(docker, model, request, progress, ct).GetAwaiter().GetResult();
            });
            WriteProgress(new ProgressRecord(ProgressIds.PublishAzureMLLocal, "Publishing to local Docker", "Done")
            {
                RecordType = ProgressRecordType.Completed
            });
            WriteObject(endpoint);
        }
        catch (Exception ex) when (ex is not PipelineStoppedException && DockerErrors.Record(ex, model) is { } record)
        {
            ThrowTerminatingError(record);
        }
    }

    internal static Dictionary<string, int> TrafficOf(Hashtable table)
    {
        var d = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (DictionaryEntry e in table)
        {
            var value = e.Value is PSObject p ? p.BaseObject : e.Value;
            d[e.Key.ToString()!] = value switch
            {
                int i => i,
                long l when l is >= int.MinValue and <= int.MaxValue => (int)l,
                string s when int.TryParse(s, out var n) => n,
                _ => throw new ArgumentException($"Traffic for '{e.Key}' must be a whole percentage, not '{value}'."),
            };
        }
        return d;
    }
}
