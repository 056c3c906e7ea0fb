using System.Globalization;
using System.Net.Http.Headers;
using MlModels.Core.Format;

namespace MlModels.Deploy.Docker;

/// <summary>
/// The Docker engine as a deployment target: a deployment is a container named after it, running an image built
/// from the model (MLflow's deployment client shape over Build-MLModelImage and Start-MLModelContainer).
/// Config keys: image (tag; default mlmodels/&lt;name&gt;:latest), baseImage, dotnetImage, platform, port, hostIp,
/// memory (bytes), cpus, environment (a string dictionary), startTimeoutSec.
/// Settings: dockerHost, httpHandler (an HttpMessageHandler for /invocations, for tests).
/// </summary>
public sealed class DockerDeploymentTarget(string? dockerHost, HttpMessageHandler? httpHandler = null) : IDeploymentTarget
{
    public const string TargetName = "docker";
    public const string DeploymentLabel = DockerContextWriter.LabelPrefix + "deployment";

    public string Name => TargetName;

    /// <summary>Registers this target with a factory under "docker".</summary>
    public static DeploymentTargetFactory Register(DeploymentTargetFactory factory) =>
        factory.Register(TargetName, s => new DockerDeploymentTarget(s.GetValueOrDefault("dockerHost") as string, s.GetValueOrDefault("httpHandler") as HttpMessageHandler));

    public async Task<Deployment> CreateAsync(DeploymentRequest request, IProgress<DeploymentProgress>? progress, CancellationToken cancellationToken)
    {
        using var engine = await DockerEngine.ConnectAsync(dockerHost, cancellationToken).ConfigureAwait(false);
        var runner = new ContainerRunner(engine, httpHandler);
        if (await runner.GetAsync(request.Name, cancellationToken).ConfigureAwait(false) is { } existing)
            throw new InvalidOperationException($"A container named '{request.Name}' already exists ({existing.ShortId}, {existing.State}); update or delete the deployment.");
        var image = await BuildAsync(engine, request, progress, cancellationToken).ConfigureAwait(false);
        return ToDeployment(await RunAsync(runner, request, image, progress, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>Builds the new image first; only once it is built is the old container replaced.</summary>
    public async Task<Deployment> UpdateAsync(DeploymentRequest request, IProgress<DeploymentProgress>? progress, CancellationToken cancellationToken)
    {
        using var engine = await DockerEngine.ConnectAsync(dockerHost, cancellationToken).ConfigureAwait(false);
        var runner = new ContainerRunner(engine, httpHandler);
        var old = await runner.GetAsync(request.Name, cancellationToken).ConfigureAwait(false)
            ?? throw new DockerObjectNotFoundException($"There is no deployment '{request.Name}' on the Docker engine at {engine.Endpoint}.");
        var image = await BuildAsync(engine, request, progress, cancellationToken).ConfigureAwait(false);
        progress?.Report(new DeploymentProgress("Update deployment", $"Replacing container {old.ShortId}"));
        await runner.StopAsync(old.Id, keep: false, TimeSpan.FromSeconds(30), cancellationToken).ConfigureAwait(false);
        return ToDeployment(await RunAsync(runner, request, image, progress, cancellationToken).ConfigureAwait(false));
    }

    public async Task DeleteAsync(string name, IReadOnlyDictionary<string, object?>? config, IProgress<DeploymentProgress>? progress, CancellationToken cancellationToken)
    {
        using var engine = await DockerEngine.ConnectAsync(dockerHost, cancellationToken).ConfigureAwait(false);
        progress?.Report(new DeploymentProgress("Delete deployment", $"Stopping {name}"));
        await new ContainerRunner(engine).StopAsync(name, keep: false, TimeSpan.FromSeconds(30), cancellationToken).ConfigureAwait(false);
    }

    public async Task<Deployment?> GetAsync(string name, CancellationToken cancellationToken)
    {
        using var engine = await DockerEngine.ConnectAsync(dockerHost, cancellationToken).ConfigureAwait(false);
        var c = await new ContainerRunner(engine).GetAsync(name, cancellationToken).ConfigureAwait(false);
        return c != null && c.Labels.ContainsKey(DeploymentLabel) ? ToDeployment(c) : null;
    }

    public async Task<IReadOnlyList<Deployment>> ListAsync(CancellationToken cancellationToken)
    {
        using var engine = await DockerEngine.ConnectAsync(dockerHost, cancellationToken).ConfigureAwait(false);
        var all = await new ContainerRunner(engine).ListAsync(all: true, cancellationToken).ConfigureAwait(false);
        return all.Where(c => c.Labels.ContainsKey(DeploymentLabel)).Select(ToDeployment).ToList();
    }

    public async Task<PredictionResponse> PredictAsync(string name, PredictionRequest request, CancellationToken cancellationToken)
    {
        var deployment = await GetAsync(name, cancellationToken).ConfigureAwait(false)
            ?? throw new DockerObjectNotFoundException($"There is no deployment '{name}'.");
        if (deployment.ScoringUri == null) throw new DockerEngineException($"Deployment '{name}' publishes no port ({deployment.Status}).");
        using var http = new HttpClient(httpHandler ?? new SocketsHttpHandler(), disposeHandler: httpHandler == null) { Timeout = Timeout.InfiniteTimeSpan };
        using var content = new ReadOnlyMemoryContent(request.Body);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(request.ContentType);
        using var response = await http.PostAsync(deployment.ScoringUri, content, cancellationToken).ConfigureAwait(false);
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        return new PredictionResponse((int)response.StatusCode, response.Content.Headers.ContentType?.ToString(), body);
    }

    private static async Task<MLModelImage> BuildAsync(DockerEngine engine, DeploymentRequest request, IProgress<DeploymentProgress>? progress, CancellationToken cancellationToken)
    {
        if (request.ModelPath == null) throw new ArgumentException("A Docker deployment needs the model folder.", nameof(request));
        var model = ModelStore.Load(request.ModelPath);
        var tag = ImageReference.Parse(Text(request.Config, "image") ?? $"mlmodels/{request.Name.ToLowerInvariant()}:latest");
        var temp = Path.Combine(Path.GetTempPath(), "mlmodels-build-" + Guid.NewGuid().ToString("N"));
        try
        {
            var options = new DockerContextOptions
            {
                BaseImage = Text(request.Config, "baseImage"),
                DotnetImage = Text(request.Config, "dotnetImage") ?? DockerContextOptions.DefaultDotnetImage,
                Platform = Text(request.Config, "platform") ?? "linux-x64",
            };
            var ctx = DockerContextWriter.Write(model, temp, options, cancellationToken);
            return await new ImageBuilder(engine).BuildAsync(ctx.Path, [tag],
                progress == null ? null : new SyncProgress<BuildProgress>(p => progress.Report(new DeploymentProgress("Build image", p.Line, p.Steps > 0 ? (p.Step - 1) * 100 / p.Steps : -1))),
                cancellationToken, ServerFiles.DockerPlatform(options.Platform)).ConfigureAwait(false);
        }
        finally
        {
            if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
        }
    }

    private static Task<MLModelContainer> RunAsync(ContainerRunner runner, DeploymentRequest request, MLModelImage image, IProgress<DeploymentProgress>? progress, CancellationToken cancellationToken) =>
        runner.StartAsync(new ContainerRunOptions
        {
            Image = image.Id,
            Name = request.Name,
            HostPort = Number(request.Config, "port") is double p ? (int)p : 0,
            HostIp = Text(request.Config, "hostIp") ?? "127.0.0.1",
            MemoryBytes = Number(request.Config, "memory") is double m ? (long)m : null,
            Cpus = Number(request.Config, "cpus"),
            Environment = request.Config.GetValueOrDefault("environment") as IReadOnlyDictionary<string, string>,
            StartTimeout = TimeSpan.FromSeconds(Number(request.Config, "startTimeoutSec") ?? 120),
            Labels = new Dictionary<string, string> { [DeploymentLabel] = request.Name },
        }, progress, cancellationToken);

    private static Deployment ToDeployment(MLModelContainer c) =>
        new(c.Labels.GetValueOrDefault(DeploymentLabel) ?? c.Name, TargetName, c.State, c.Url == null ? null : new Uri(c.Url, "invocations"))
        {
            Details = new Dictionary<string, object?> { ["containerId"] = c.Id, ["image"] = c.Image, ["health"] = c.Health, ["modelName"] = c.ModelName },
        };

    private static string? Text(IReadOnlyDictionary<string, object?> config, string key) => config.GetValueOrDefault(key)?.ToString();

    private static double? Number(IReadOnlyDictionary<string, object?> config, string key) => config.GetValueOrDefault(key) switch
    {
        null => null,
        IConvertible c => c.ToDouble(CultureInfo.InvariantCulture),
        var v => throw new ArgumentException($"Config '{key}' must be a number, not '{v}'."),
    };
}
