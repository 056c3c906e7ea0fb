using MlModels.Core.Format;
using MlModels.Core.Serving;
using MlModels.Deploy.Aws;
using MlModels.Deploy.Docker;

namespace MlModels.Deploy.SageMaker;

/// <summary>What Publish-MLModelSageMakerImage builds and where it pushes it.</summary>
public sealed record SageMakerImageOptions
{
    /// <summary>The ECR repository (MLflow's default: mlflow-pyfunc).</summary>
    public string Repository { get; init; } = SageMakerNames.DefaultImageRepository;
    /// <summary>The tag (default: the module's version, which Publish-MLModelSageMaker looks for).</summary>
    public string Tag { get; init; } = SageMakerDeployer.ImageTag;
    /// <summary>An image already in the engine to push instead of building the generic one.</summary>
    public string? Image { get; init; }
    /// <summary>Build settings of the generic image (base images, Python version, platform).</summary>
    public DockerContextOptions Build { get; init; } = new() { Generic = true };
}

/// <summary>
/// MLflow's <c>build-and-push-container</c> and <c>run-local</c> over the Docker engine: the generic serving image
/// (SageMaker's contract: <c>serve</c>, port 8080, the model at /opt/ml/model), pushed to ECR with a token ECR issues;
/// and the same image run locally with the model mounted and SageMaker's environment, so it answers as it will there.
/// </summary>
public static class SageMakerImages
{
    public static async Task<PublishedImage> BuildAndPushAsync(AwsConnection aws, DockerEngine engine, SageMakerImageOptions options,
        IProgress<DeploymentProgress>? progress, CancellationToken ct)
    {
        var target = await new EcrRepositories(aws).PrepareAsync(options.Repository, options.Tag, ct).ConfigureAwait(false);
        progress?.Report(new DeploymentProgress(
            "Publishing the SageMaker image",
            target.Created ? $"Created ECR repository {target.RepositoryUri}" : $"ECR repository {target.RepositoryUri}"));
        var source = options.Image;
        if (source == null)
        {
            var local = ImageReference.Parse($"{options.Repository}:{options.Tag}");
            var temp = Path.Combine(Path.GetTempPath(), "mlmodels-sagemaker-image-" + Guid.NewGuid().ToString("N"));
            try
            {
                var context = DockerContextWriter.Write(null, temp, options.Build with { Generic = true }, ct);
                await new ImageBuilder(engine).BuildAsync(context.Path, [local],
                    new SyncReport<BuildProgress>(
                        b => progress?.Report(new DeploymentProgress($"Building {local}", b.Steps > 0 ? $"Step {b.Step} of {b.Steps}" : b.Line))),
                    ct, ServerFiles.DockerPlatform(options.Build.Platform)).ConfigureAwait(false);
                source = local.ToString();
            }
            finally
            {
                if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
            }
        }
        return await new ImagePublisher(engine).PushAsync(source, ImageReference.Parse(target
            .ImageUri), new RegistryCredential(target.Username, target.Password),
            new SyncReport<PushProgress>(p => progress?.Report(new DeploymentProgress($"Pushing {target.ImageUri}", $"{p.Layer}: {p.Status}",
                p.Total > 0 ? (int)Math.Min(100, p.Current * 100 / p.Total) : -1))), ct).ConfigureAwait(false);
    }

    /// <summary>
    /// The container MLflow's run-local starts: the image with <c>serve</c>, the model at /opt/ml/model, port 8080
    /// published on <paramref name="port"/>, and the environment SageMaker gives the model (the flavor, SERVING_ENVIRONMENT).
    /// </summary>
    public static ContainerRunOptions LocalRun(
        MLModel model,
        string image,
        int port,
        string? flavor,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        if (model.Path == null) throw new ArgumentException("Save the model before running it.");
        var env = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [SageMakerDeployer.FlavorEnvironmentVariable] = SageMakerDeployer.ChooseFlavor(model, flavor),
            [SageMakerDeployer.ServingEnvironmentVariable] = "SageMaker",
        };
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) env[k] = v;
        return new ContainerRunOptions
        {
            Image = image,
            ModelPath = model.Path,
            HostPort = port,
            Environment = env,
            Command = [ServerCommandLine.Serve]
        };
    }

    private sealed class SyncReport<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
