using MlModels.Core.Format;
using MlModels.Core.Serving;
using MlModels.Deploy.Docker;

namespace MlModels.Deploy.AzureML;

/// <summary>A local deployment: the model's image in local Docker, answering as an Azure ML online endpoint does.</summary>
public sealed record AzureMLLocalRequest(string EndpointName)
{
    public string DeploymentName { get; init; } = "blue";
    /// <summary>An image already on the engine (Build-MLModelImage); null builds the model's image first.</summary>
    public string? Image { get; init; }
    /// <summary>How the model's image is built where no image is given.</summary>
    public DockerContextOptions Build { get; init; } = new();
    /// <summary>The host port for the container's 5001 (Azure ML's inference port); 0 lets the engine choose.</summary>
    public int HostPort { get; init; } = AzureMLLocal.Port;
    public string HostIp { get; init; } = "127.0.0.1";
    public IReadOnlyDictionary<string, string>? Environment { get; init; }
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(120);
}

/// <summary>
/// MLflow's local Azure ML deployment (the seed's <c>azureml deploy</c> to a local environment) brought to Azure ML's
/// MLflow contract: the model's image runs with the server on port 5001, where it answers liveness <c>GET /</c> and
/// <c>POST /score</c> with <c>input_data</c> as an online deployment does, so a user sends the request they will send to Azure.
/// A second publish of the same endpoint and deployment replaces its container.
/// </summary>
public static class AzureMLLocal
{
    public const int Port = DockerContextWriter.AzureMLPort;
    public const string EndpointLabel = DockerContextWriter.LabelPrefix + "azureml.endpoint";
    public const string DeploymentLabel = DockerContextWriter.LabelPrefix + "azureml.deployment";

    /// <summary>The image a local deployment builds where none is given: one per endpoint and deployment.</summary>
    public static ImageReference ImageFor(AzureMLLocalRequest r) =>
        ImageReference.Parse($"mlmodels-azureml/{r.EndpointName.ToLowerInvariant()}:{r.DeploymentName.ToLowerInvariant()}");

    /// <summary>The container: the server on 5001 (<c>serve</c> with MLMODELS_SERVE_PORT), the model at /opt/ml/model, labelled with the endpoint.</summary>
    public static ContainerRunOptions RunOptions(MLModel model, string image, AzureMLLocalRequest r)
    {
        if (model.Path == null) throw new ArgumentException("Save the model before deploying it.");
        var env = new Dictionary<string, string>(StringComparer.Ordinal) { [ServerCommandLine.ServePortVariable] = Port.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        foreach (var (k, v) in r.Environment ?? new Dictionary<string, string>()) env[k] = v;
        return new ContainerRunOptions
        {
            Image = image, ModelPath = model.Path, HostPort = r.HostPort, HostIp = r.HostIp, ContainerPort = Port, Environment = env,
            Command = [ServerCommandLine.Serve], StartTimeout = r.StartTimeout,
            Labels = new Dictionary<string, string> { [EndpointLabel] = r.EndpointName, [DeploymentLabel] = r.DeploymentName },
        };
    }

    public static async Task<AzureMLEndpoint> PublishAsync(DockerEngine engine, MLModel model, AzureMLLocalRequest r, IProgress<DeploymentProgress>? progress, CancellationToken ct)
    {
        AzureMLNames.CheckEndpoint(r.EndpointName);
        AzureMLNames.CheckResource("deployment", r.DeploymentName);
        var runner = new ContainerRunner(engine);
        var image = r.Image ?? await BuildAsync(engine, model, r, progress, ct).ConfigureAwait(false);
        foreach (var old in await FindAsync(runner, r.EndpointName, r.DeploymentName, ct).ConfigureAwait(false))
        {
            progress?.Report(new DeploymentProgress("Publishing to local Docker", $"Replacing container {old.Name}"));
            await runner.StopAsync(old.Id, keep: false, TimeSpan.FromSeconds(10), ct).ConfigureAwait(false);
        }
        var container = await runner.StartAsync(RunOptions(model, image, r), progress, ct).ConfigureAwait(false);
        return ToEndpoint(container);
    }

    /// <summary>The local endpoints' containers (all endpoints where <paramref name="endpoint"/> is null).</summary>
    public static async Task<IReadOnlyList<MLModelContainer>> FindAsync(ContainerRunner runner, string? endpoint, string? deployment, CancellationToken ct) =>
        (await runner.ListAsync(all: true, ct).ConfigureAwait(false))
            .Where(c => c.Labels.TryGetValue(EndpointLabel, out var e) && (endpoint == null || e == endpoint)
                && (deployment == null || c.Labels.GetValueOrDefault(DeploymentLabel) == deployment))
            .ToList();

    public static AzureMLEndpoint ToEndpoint(MLModelContainer c)
    {
        var name = c.Labels.GetValueOrDefault(EndpointLabel) ?? c.Name;
        var deployment = c.Labels.GetValueOrDefault(DeploymentLabel) ?? "blue";
        var state = c.State == "running" ? "Succeeded" : c.State;
        return new AzureMLEndpoint(name, "Local", state, c.Url == null ? null : new Uri(c.Url, AzureMLContract.ScorePath.TrimStart('/')), null,
            new Dictionary<string, int> { [deployment] = 100 }, [new AzureMLDeploymentInfo(deployment, state, c.ModelName, null, 1)], "local", c.Id, null)
        { Container = c };
    }

    private static async Task<string> BuildAsync(DockerEngine engine, MLModel model, AzureMLLocalRequest r, IProgress<DeploymentProgress>? progress, CancellationToken ct)
    {
        var tag = ImageFor(r);
        var temp = Path.Combine(Path.GetTempPath(), "mlmodels-azureml-local-" + Guid.NewGuid().ToString("N"));
        try
        {
            var context = DockerContextWriter.Write(model, temp, r.Build with { Generic = false }, ct);
            await new ImageBuilder(engine).BuildAsync(context.Path, [tag],
                new Reporter<BuildProgress>(b => progress?.Report(new DeploymentProgress($"Building {tag}", b.Steps > 0 ? $"Step {b.Step} of {b.Steps}" : b.Line,
                    b.Steps > 0 ? Math.Min(99, (b.Step - 1) * 100 / b.Steps) : -1))),
                ct, ServerFiles.DockerPlatform(r.Build.Platform)).ConfigureAwait(false);
            return tag.ToString();
        }
        finally
        {
            if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
        }
    }

    private sealed class Reporter<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
