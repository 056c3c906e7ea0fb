using System.Management.Automation;
using MlModels.Core.Format;
using MlModels.Deploy.Docker;
using MlModels.PowerShell.Internal;

namespace MlModels.PowerShell.Commands;

/// <summary>Builds a model image on a Docker engine (MLflow's build-docker), without the docker CLI.</summary>
[Cmdlet("Build", "MLModelImage", SupportsShouldProcess = true, DefaultParameterSetName = "Model")]
[OutputType(typeof(MLModelImage))]
public sealed class BuildMLModelImageCommand : DockerCmdlet
{
    [Parameter(ParameterSetName = "Model", ValueFromPipeline = true)]
    public MLModel? Model { get; set; }

    /// <summary>The model folder, instead of -Model.</summary>
    [Parameter(ParameterSetName = "Model")]
    [Alias("ModelPath")]
    public string? Path { get; set; }

    /// <summary>A build context written by New-MLModelDockerfile (perhaps edited).</summary>
    [Parameter(Mandatory = true, ParameterSetName = "Context")]
    public string? ContextPath { get; set; }

    /// <summary>The model-agnostic image: it serves whatever model is mounted at /opt/ml/model.</summary>
    [Parameter(Mandatory = true, ParameterSetName = "Generic")]
    public SwitchParameter Generic { get; set; }

    [Parameter(ParameterSetName = "Generic")]
    [ValidatePattern(@"^3\.\d+(\.\d+)?$")]
    public string? PythonVersion { get; set; }

    /// <summary>Names for the image (name[:tag]); ':latest' where no tag is given.</summary>
    [Parameter(Mandatory = true, Position = 0)]
    public string[] Tag { get; set; } = [];

    [Parameter(ParameterSetName = "Model")]
    [Parameter(ParameterSetName = "Generic")]
    public string? BaseImage { get; set; }

    [Parameter(ParameterSetName = "Model")]
    [Parameter(ParameterSetName = "Generic")]
    public string DotnetImage { get; set; } = DockerContextOptions.DefaultDotnetImage;

    [Parameter]
    [ValidateSet("linux-x64", "linux-arm64")]
    public string Platform { get; set; } = "linux-x64";

    /// <summary>The server build the image carries: Auto (the native server where the module has one for the platform),
    /// Native (no .NET runtime in the image; linux-x64) or Framework (on the ASP.NET Core runtime).</summary>
    /// A string, not Deploy's enum: PowerShell reads parameter types before the module's load context is hooked.
    [Parameter]
    [ValidateSet("Auto", "Native", "Framework")]
    public string ServerBuild { get; set; } = "Auto";

    /// <summary>Install MLflow into the image even where the worker's own loader scores the model (MLflow's --install-mlflow).</summary>
    [Parameter(ParameterSetName = "Model")]
    [Parameter(ParameterSetName = "Generic")]
    public SwitchParameter InstallMlflow { get; set; }

    /// <summary>A folder of wheels to install the model's requirements from, with no package index (pip --no-index --find-links).</summary>
    [Parameter(ParameterSetName = "Model")]
    [Parameter(ParameterSetName = "Generic")]
    public string? Wheelhouse { get; set; }

    /// <summary>Build every step again instead of reusing the engine's cached layers.</summary>
    [Parameter]
    public SwitchParameter NoCache { get; set; }

    private List<ImageReference> _tags = [];

    protected override void BeginProcessing()
    {
        // Every name is checked before any work: a bad tag never costs a build.
        foreach (var t in Tag)
        {
            if (!ImageReference.TryParse(t, out var parsed, out var error))
                ThrowTerminatingError(Errors.Record(new ArgumentException(error), "InvalidImageName", ErrorCategory.InvalidArgument, t));
            _tags.Add(parsed!);
        }
    }

    protected override void ProcessRecord()
    {
        MLModel? model = null;
        string? context = null;
        if (ParameterSetName == "Model")
        {
            model = ModelFromArguments(Model, Path);
            if (model == null) return;
        }
        else if (ParameterSetName == "Context")
        {
            context = ResolveExisting([ContextPath!], literal: false).FirstOrDefault();
            if (context == null) return;
        }
        var what = model != null ? $"model '{model.Name}'" : context ?? "the generic server";
        if (!ShouldProcess(string.Join(", ", _tags), $"Build an image of {what}")) return;

        string? temp = null;
        var wheelhouse = Wheelhouse == null ? null : GetUnresolvedProviderPathFromPSPath(Wheelhouse);
        var progress = new ProgressRecord(ProgressIds.BuildImage, "Build-MLModelImage", $"Building {_tags[0]}");
        try
        {
            // The engine is reached first: an unreachable one costs no context.
            var image = WithEngine((engine, ct) =>
            {
                if (context == null)
                {
                    temp = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "mlmodels-build-" + Guid.NewGuid().ToString("N"));
                    var written = DockerContextWriter.Write(model, temp, new DockerContextOptions
                    {
                        BaseImage = BaseImage, DotnetImage = DotnetImage, Generic = Generic, PythonVersion = PythonVersion, Platform = Platform,
                        Server = Enum.Parse<ServerBuild>(ServerBuild, ignoreCase: true),
                        InstallMlflow = InstallMlflow, Wheelhouse = wheelhouse,
                    }, ct);
                    if (written.LoaderReason != null) Post(
                        () => WriteVerbose(
                            $"Python loader: {(written.Loader == PythonLoader.Mlflow ? "mlflow" : "builtin")}: {written.LoaderReason}"));
                    context = written.Path;
                }
                return new ImageBuilder(engine).BuildAsync(context, _tags, new SyncProgress<BuildProgress>(p => Post(() =>
                {
                    WriteVerbose(p.Line);
                    if (p.Steps > 0)
                    {
                        progress.StatusDescription = $"Step {p.Step} of {p.Steps}";
                        progress.PercentComplete = Math.Min(99, (p.Step - 1) * 100 / p.Steps);
                        WriteProgress(progress);
                    }
                })), ct, ServerFiles.DockerPlatform(Platform), NoCache);
            });
            progress.RecordType = ProgressRecordType.Completed;
            WriteProgress(progress);
            WriteObject(image);
        }
        catch (Exception ex) when (ex is not PipelineStoppedException && DockerErrors.Record(ex, (object?)model ?? context) is { } record)
        {
            WriteError(record);
        }
        finally
        {
            if (temp != null && Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
        }
    }
}
