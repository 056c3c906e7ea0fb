using MlModels.Core.Format;
using MlModels.Deploy.Endpoints;

namespace MlModels.Deploy.Docker;

/// <summary>How to reach the Docker engine (DOCKER_HOST, then the platform's socket, when no host is given).</summary>
public sealed record DockerTargetSettings(string? DockerHost = null) : DeploymentTargetSettings
{
    /// <summary>A handler for the scoring requests (tests put a fake or a fault injector here).</summary>
    public HttpMessageHandler? ScoringHandler { get; init; }

    /// <summary>Where lines such as "Using the engine at ..." go.</summary>
    public Action<string>? Log { get; init; }
}

/// <summary>
/// A container deployment: an image to run (or, without one, the model folder built into an image first), the model
/// folder mounted into it where given, and how to publish and limit it.
/// </summary>
public sealed record DockerDeploymentOptions : DeploymentOptions
{
    /// <summary>The container's name; null lets the engine choose one.</summary>
    public string? Name { get; init; }

    /// <summary>The image to run (a tag or id). Null: the model folder is built into <see cref="Tag"/> first.</summary>
    public string? Image { get; init; }

    /// <summary>The model folder: mounted read-only at /opt/ml/model when an image is given, built into one otherwise.</summary>
    public string? ModelPath { get; init; }

    /// <summary>The tag a built image gets; default mlmodels/&lt;name&gt;:latest.</summary>
    public string? Tag { get; init; }

    /// <summary>How a built image is made.</summary>
    public DockerContextOptions Build { get; init; } = new();

    public int HostPort { get; init; }
    /// <summary>The host port for the Open Inference gRPC port (8081); null: not published, 0: a free one.</summary>
    public int? GrpcHostPort { get; init; }
    public string HostIp { get; init; } = "127.0.0.1";
    public long? MemoryBytes { get; init; }
    public double? Cpus { get; init; }
    public IReadOnlyDictionary<string, string>? Environment { get; init; }
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>The port the server listens on inside the container, and its arguments (SageMaker's serve by default).</summary>
    public int ContainerPort { get; init; } = DockerContextWriter.Port;
    public IReadOnlyList<string>? Command { get; init; }

    /// <summary>Labels to add (other targets' local modes mark their containers with these).</summary>
    public IReadOnlyDictionary<string, string>? Labels { get; init; }

    public override string TargetName => Name ?? Image ?? ModelPath ?? "";

    /// <summary>A run of an existing image, as ContainerRunner takes it, as deployment options.</summary>
    public static DockerDeploymentOptions From(ContainerRunOptions run) => new()
    {
        Name = run.Name, Image = run.Image, ModelPath = run.ModelPath, HostPort = run.HostPort, GrpcHostPort = run.GrpcHostPort, HostIp = run.HostIp,
        MemoryBytes = run.MemoryBytes, Cpus = run.Cpus, Environment = run.Environment, StartTimeout = run.StartTimeout,
        ContainerPort = run.ContainerPort, Command = run.Command, Labels = run.Labels,
    };
}

/// <summary>What to stop: the container by name or id; <see cref="Keep"/> leaves it stopped instead of removing it.</summary>
public sealed record DockerDeleteOptions(string Name) : DeleteDeploymentOptions(Name)
{
    public bool Keep { get; init; }
    /// <summary>How long the server has to finish requests in flight before it is killed.</summary>
    public TimeSpan Grace { get; init; } = TimeSpan.FromSeconds(30);
}

/// <summary>
/// The Docker engine as a deployment target: a deployment is a model container this module started (named after the
/// deployment where a name is given), running an image built from the model or one given (MLflow's deployment client
/// shape over ImageBuilder and ContainerRunner). Start-, Get- and Stop-MLModelContainer go through it.
/// </summary>
public sealed class DockerDeploymentTarget(DockerTargetSettings settings) : IDeploymentTarget
{
    public const string TargetName = "docker";
    public const string DeploymentLabel = DockerContextWriter.LabelPrefix + "deployment";
    private readonly InvocationsClient _scoring = new(InvocationsClient.DefaultTimeout, settings.ScoringHandler);

    public string Name => TargetName;

    public static IDeploymentTarget Create(DeploymentTargetSettings settings) =>
        new DockerDeploymentTarget(DeploymentTargetFactory.SettingsAs<DockerTargetSettings>(TargetName, settings));

    public void Dispose() => _scoring.Dispose();

    public Task<DeploymentPlan> PlanAsync(DeploymentOptions options, CancellationToken cancellationToken)
    {
        var o = Options(options);
        var calls = new List<string>();
        var image = o.Image ?? TagOf(o, null).ToString();
        if (o.Image == null) calls.Add($"POST /build (the image {image} from {o.ModelPath})");
        calls.Add($"POST /containers/create ({image}{(o.Image != null && o.ModelPath != null ? ", " + o.ModelPath + " mounted" : "")})");
        calls.Add("POST /containers/{id}/start, then GET /ping until it answers");
        return Task.FromResult(new DeploymentPlan(o, calls));
    }

    public async Task<Deployment> DeployAsync(DeploymentPlan plan, IProgress<DeploymentProgress>? progress, CancellationToken cancellationToken)
    {
        var o = Options(plan.Options);
        using var engine = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        var image = o.Image ?? (await BuildAsync(engine, o, progress, cancellationToken).ConfigureAwait(false)).Id;
        return ToDeployment(
            await RunAsync(new ContainerRunner(engine, settings.ScoringHandler), o, image, progress, cancellationToken).ConfigureAwait(false));
    }

    public async Task<Deployment> CreateAsync(DeploymentOptions options, IProgress<DeploymentProgress>? progress, CancellationToken cancellationToken)
    {
        var o = Options(options);
        if (o.Name != null)
        {
            using var engine = await ConnectAsync(cancellationToken).ConfigureAwait(false);
            if (await new ContainerRunner(engine).GetAsync(o.Name, cancellationToken).ConfigureAwait(false) is { } existing)
                throw new InvalidOperationException(
                    $"A container named '{o.Name}' already exists ({existing.ShortId}, {existing.State}); update or delete the deployment.");
        }
        return await DeployAsync(await PlanAsync(o, cancellationToken).ConfigureAwait(false), progress, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Builds the new image first; only once it is built is the old container replaced.</summary>
    public async Task<Deployment> UpdateAsync(DeploymentOptions options, IProgress<DeploymentProgress>? progress, CancellationToken cancellationToken)
    {
        var o = Options(options);
        if (o.Name == null) throw new ArgumentException("Updating a container deployment needs its name.", nameof(options));
        using var engine = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        var runner = new ContainerRunner(engine, settings.ScoringHandler);
        var old = await runner.GetAsync(o.Name, cancellationToken).ConfigureAwait(false)
            ?? throw new DockerObjectNotFoundException($"There is no deployment '{o.Name}' on the Docker engine at {engine.Endpoint}.");
        var image = o.Image ?? (await BuildAsync(engine, o, progress, cancellationToken).ConfigureAwait(false)).Id;
        progress?.Report(new DeploymentProgress("Update deployment", $"Replacing container {old.ShortId}"));
        await runner.StopAsync(old.Id, keep: false, TimeSpan.FromSeconds(30), cancellationToken).ConfigureAwait(false);
        return ToDeployment(await RunAsync(runner, o, image, progress, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>Stops the container (SIGTERM: requests in flight finish) and removes it unless Keep.</summary>
    public async Task<DeploymentRemoval> DeleteAsync(
        DeleteDeploymentOptions options,
        IProgress<DeploymentProgress>? progress,
        CancellationToken cancellationToken)
    {
        var o = options as DockerDeleteOptions ?? new DockerDeleteOptions(options.Name);
        using var engine = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        var runner = new ContainerRunner(engine);
        var found = await runner.GetAsync(o.Name, cancellationToken).ConfigureAwait(false);
        if (found == null) return new DeploymentRemoval(o.Name, Found: false);
        progress?.Report(new DeploymentProgress("Delete deployment", $"Stopping {o.Name}"));
        await runner.StopAsync(found.Id, o.Keep, o.Grace, cancellationToken).ConfigureAwait(false);
        var after = o.Keep
            ? await runner.GetAsync(found.Id, cancellationToken).ConfigureAwait(false) ?? found
            : found with { State = "removed", Health = null };
        return new DeploymentRemoval(o.Name, Found: true) { Resource = after };
    }

    /// <summary>A model container of this module by name or id, or null.</summary>
    public async Task<Deployment?> GetAsync(string name, CancellationToken cancellationToken)
    {
        using var engine = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        var c = await new ContainerRunner(engine).GetAsync(name, cancellationToken).ConfigureAwait(false);
        return c != null && c.Labels.ContainsKey(ContainerRunner.ContainerLabel) ? ToDeployment(c) : null;
    }

    public Task<IReadOnlyList<Deployment>> ListAsync(CancellationToken cancellationToken) => ListAsync(all: true, cancellationToken);

    /// <summary>The model containers this module started: running ones, or all with <paramref name="all"/>.</summary>
    public async Task<IReadOnlyList<Deployment>> ListAsync(bool all, CancellationToken cancellationToken)
    {
        using var engine = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        return (await new ContainerRunner(engine).ListAsync(all, cancellationToken).ConfigureAwait(false)).Select(ToDeployment).ToList();
    }

    /// <summary>The model folder of the options built into an image (tagged as they say), without running it.</summary>
    public async Task<MLModelImage> BuildImageAsync(
        DockerDeploymentOptions options,
        IProgress<DeploymentProgress>? progress,
        CancellationToken cancellationToken)
    {
        using var engine = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        return await BuildAsync(engine, options, progress, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The container's last log lines (all with 0), or an error where there is no such container.</summary>
    public async Task<IReadOnlyList<string>> LogsAsync(string name, int tail, CancellationToken cancellationToken)
    {
        using var engine = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        var runner = new ContainerRunner(engine);
        var c = await runner.GetAsync(name, cancellationToken).ConfigureAwait(false)
            ?? throw new DockerObjectNotFoundException($"There is no container '{name}' on the Docker engine at {engine.Endpoint}.");
        return await runner.LogsAsync(c.Id, tail, cancellationToken).ConfigureAwait(false);
    }

    public async Task<PredictionResponse> PredictAsync(string name, PredictionRequest request, string? variant, CancellationToken cancellationToken)
    {
        var deployment = await GetAsync(name, cancellationToken).ConfigureAwait(false)
            ?? throw new DockerObjectNotFoundException($"There is no deployment '{name}'.");
        if (deployment.ScoringUri == null) throw new DockerEngineException($"Deployment '{name}' publishes no port ({deployment.Status}).");
        return await _scoring.PostAsync(deployment.ScoringUri, request, cancellationToken).ConfigureAwait(false);
    }

    private async Task<DockerEngine> ConnectAsync(CancellationToken ct)
    {
        var engine = await DockerEngine.ConnectAsync(settings.DockerHost, ct).ConfigureAwait(false);
        settings.Log?.Invoke($"Using {engine}.");
        return engine;
    }

    private static DockerDeploymentOptions Options(DeploymentOptions options) => options as DockerDeploymentOptions
        ?? throw new ArgumentException($"The docker target takes {nameof(DockerDeploymentOptions)}.", nameof(options));

    /// <summary>The tag a built image gets; the model is read for its name only where neither a tag nor a name is given.</summary>
    private static ImageReference TagOf(DockerDeploymentOptions o, MLModel? model) =>
        ImageReference.Parse(o.Tag ?? $"mlmodels/{(o.Name ?? (model ?? ModelStore.Load(o.ModelPath!)).Name).ToLowerInvariant()}:latest");

    private static async Task<MLModelImage> BuildAsync(DockerEngine engine, DockerDeploymentOptions o, IProgress<DeploymentProgress>? progress,
        CancellationToken cancellationToken)
    {
        if (o.ModelPath == null) throw new ArgumentException("A container deployment needs an image or the model folder to build one from.");
        var model = ModelStore.Load(o.ModelPath);
        var tag = TagOf(o, model);
        var temp = Path.Combine(Path.GetTempPath(), "mlmodels-build-" + Guid.NewGuid().ToString("N"));
        try
        {
            var ctx = DockerContextWriter.Write(model, temp, o.Build, cancellationToken);
            var buildProgress = progress == null ? null : new SyncProgress<BuildProgress>(p =>
                progress.Report(new DeploymentProgress("Build image", p.Line, p.Steps > 0 ? (p.Step - 1) * 100 / p.Steps : -1)));
            return await new ImageBuilder(engine).BuildAsync(
                ctx.Path,
                [tag],
                buildProgress,
                cancellationToken,
                ServerFiles.DockerPlatform(o.Build.Platform))
                .ConfigureAwait(false);
        }
        finally
        {
            if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
        }
    }

    private static Task<MLModelContainer> RunAsync(ContainerRunner runner, DockerDeploymentOptions o, string image,
        IProgress<DeploymentProgress>? progress, CancellationToken cancellationToken)
    {
        var labels = new Dictionary<string, string>(o.Labels ?? new Dictionary<string, string>(), StringComparer.Ordinal);
        if (o.Name != null) labels[DeploymentLabel] = o.Name;
        var run = new ContainerRunOptions
        {
            Image = image,
            // A built image carries the model; a given one gets the folder mounted.
            ModelPath = o.Image != null ? o.ModelPath : null,
            Name = o.Name,
            HostPort = o.HostPort,
            GrpcHostPort = o.GrpcHostPort,
            HostIp = o.HostIp,
            MemoryBytes = o.MemoryBytes,
            Cpus = o.Cpus,
            Environment = o.Environment,
            StartTimeout = o.StartTimeout,
            ContainerPort = o.ContainerPort,
            Labels = labels,
        };
        return runner.StartAsync(o.Command == null ? run : run with { Command = o.Command }, progress, cancellationToken);
    }

    private static Deployment ToDeployment(MLModelContainer c) =>
        new(c.Labels.GetValueOrDefault(DeploymentLabel) ?? c.Name, TargetName, c.State, c.Url == null ? null : new Uri(c.Url, "invocations"))
        {
            Details = new Dictionary<string, object?>
            {
                ["containerId"] = c.Id,
                ["image"] = c.Image,
                ["health"] = c.Health,
                ["modelName"] = c.ModelName
            },
            Resource = c,
        };
}
