using System.Management.Automation;
using MlModels.Deploy.Docker;
using MlModels.Deploy.SageMaker;
using MlModels.PowerShell.Internal;

namespace MlModels.PowerShell.Commands;

/// <summary>
/// MLflow's <c>mlflow sagemaker build-and-push-container</c>: builds the generic serving image (or takes -Image), finds
/// or creates the ECR repository, logs in with a token from ECR and pushes; returns the image URI for -ImageUrl.
/// </summary>
[Cmdlet(VerbsData.Publish, "MLModelSageMakerImage", SupportsShouldProcess = true)]
[OutputType(typeof(string))]
public sealed class PublishMLModelSageMakerImageCommand : AwsCmdlet
{
    /// <summary>The ECR repository (default mlflow-pyfunc, where Publish-MLModelSageMaker looks).</summary>
    [Parameter(Position = 0)]
    [Alias("Container", "RepositoryName")]
    public string Repository { get; set; } = SageMakerNames.DefaultImageRepository;

    /// <summary>The image tag (default: the module's version).</summary>
    [Parameter]
    public string? Tag { get; set; }

    /// <summary>Push this image from the engine instead of building the generic one.</summary>
    [Parameter]
    public string? Image { get; set; }

    /// <summary>The base image for the generic image's Python (else the default Python image).</summary>
    [Parameter]
    public string? BaseImage { get; set; }

    /// <summary>The .NET (ASP.NET Core) runtime image the server is copied from.</summary>
    [Parameter]
    public string? DotnetImage { get; set; }

    [Parameter]
    [ValidateSet("linux-x64", "linux-arm64")]
    public string Platform { get; set; } = "linux-x64";

    /// <summary>The Docker engine (default DOCKER_HOST, then the platform's socket).</summary>
    [Parameter]
    public string? DockerHost { get; set; }

    /// <summary>Install MLflow into the generic image, for models whose loader the worker lacks (MLflow's --install-mlflow).</summary>
    [Parameter]
    public SwitchParameter InstallMlflow { get; set; }

    /// <summary>A folder of wheels pip installs from, with no package index (with -InstallMlflow).</summary>
    [Parameter]
    public string? Wheelhouse { get; set; }

    protected override void ProcessRecord()
    {
        var tag = Tag ?? SageMakerDeployer.ImageTag;
        if (!ShouldProcess(
            $"ECR repository '{Repository}'",
            $"{(Image == null ? "Build the generic serving image and push it" : $"Push {Image}")} as {Repository}:{tag}")) return;
        using var aws = OpenConnection();
        var build = new DockerContextOptions
        {
            Generic = true, BaseImage = BaseImage, Platform = Platform,
            InstallMlflow = InstallMlflow, Wheelhouse = Wheelhouse == null ? null : GetUnresolvedProviderPathFromPSPath(Wheelhouse),
        };
        if (DotnetImage != null) build = build with { DotnetImage = DotnetImage };
        var options = new SageMakerImageOptions { Repository = Repository, Tag = tag, Image = Image, Build = build };
        try
        {
            if (TryRun("Publish-MLModelSageMakerImage", Repository, async (progress, ct) =>
                {
                    using var engine = await DockerEngine.ConnectAsync(DockerHost, ct);
                    return await SageMakerImages.BuildAndPushAsync(aws, engine, options, progress, ct);
                }, out var pushed, terminating: false))
            {
                WriteVerbose($"Pushed {pushed}.");
                WriteObject(pushed.Reference);
            }
        }
        catch (Exception ex) when (ex is not PipelineStoppedException && DockerErrors.Record(ex, Repository) is { } record)
        {
            WriteError(record);
        }
    }
}
