using System.Management.Automation;
using MlModels.Core.Format;
using MlModels.Deploy.Docker;
using MlModels.PowerShell.Internal;

namespace MlModels.PowerShell.Commands;

/// <summary>Writes a Docker build context for a model (MLflow's generate-dockerfile): a Dockerfile, the module's server and the model.</summary>
[Cmdlet(VerbsCommon.New, "MLModelDockerfile", SupportsShouldProcess = true, DefaultParameterSetName = "Model")]
[OutputType(typeof(DockerContext))]
public sealed class NewMLModelDockerfileCommand : MLModelCmdlet
{
    [Parameter(ParameterSetName = "Model", ValueFromPipeline = true)]
    public MLModel? Model { get; set; }

    /// <summary>The model folder, instead of -Model.</summary>
    [Parameter(ParameterSetName = "Model")]
    [Alias("ModelPath")]
    public string? Path { get; set; }

    /// <summary>The folder to write the context into (created; replaced only with -Force).</summary>
    [Parameter(Mandatory = true, Position = 0)]
    public string OutputPath { get; set; } = "";

    /// <summary>No model inside: the image serves whatever model is mounted at /opt/ml/model.</summary>
    [Parameter(Mandatory = true, ParameterSetName = "Generic")]
    public SwitchParameter Generic { get; set; }

    /// <summary>For a generic image: carry this Python version (python_function models); without it the image serves ONNX models.</summary>
    [Parameter(ParameterSetName = "Generic")]
    [ValidatePattern(@"^3\.\d+(\.\d+)?$")]
    public string? PythonVersion { get; set; }

    /// <summary>The final stage's base; default the runtime-deps image (ONNX, native server), the .NET image (ONNX,
    /// framework-dependent server) or python:&lt;version&gt;-slim (python_function).</summary>
    [Parameter]
    public string? BaseImage { get; set; }

    /// <summary>The ASP.NET Core runtime image (8.0 or later) the server runs on.</summary>
    [Parameter]
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

    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Install MLflow into the image even where the worker's own loader scores the model (MLflow's --install-mlflow).</summary>
    [Parameter]
    public SwitchParameter InstallMlflow { get; set; }

    /// <summary>A folder of wheels to install the model's requirements from, with no package index (pip --no-index --find-links).</summary>
    [Parameter]
    public string? Wheelhouse { get; set; }

    protected override void ProcessRecord()
    {
        MLModel? model = null;
        if (!Generic)
        {
            model = ModelFromArguments(Model, Path);
            if (model == null) return;
        }
        var target = ResolveTarget(OutputPath);
        if (!ShouldProcess(target, Generic ? "Write a generic image's build context" : $"Write the build context of model '{model!.Name}'")) return;
        try
        {
            var context = DockerContextWriter.Write(model, target, Options(), CancelToken);
            if (context.LoaderReason != null) WriteVerbose(
                $"Python loader: {(context.Loader == PythonLoader.Mlflow ? "mlflow" : "builtin")}: {context.LoaderReason}");
            WriteObject(context);
        }
        catch (Exception ex) when (DockerErrors.Record(ex, (object?)model ?? target) is { } record)
        {
            WriteError(record);
        }
    }

    private DockerContextOptions Options() => new()
    {
        BaseImage = BaseImage, DotnetImage = DotnetImage, Generic = Generic, PythonVersion = PythonVersion, Platform = Platform, Force = Force,
        Server = Enum.Parse<ServerBuild>(ServerBuild, ignoreCase: true),
        InstallMlflow = InstallMlflow, Wheelhouse = Wheelhouse == null ? null : GetUnresolvedProviderPathFromPSPath(Wheelhouse),
    };
}
