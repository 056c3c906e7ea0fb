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

    /// <summary>The container: the server on 5001 (<c>serve</c> with MLMODELS_SERVE_PORT), the model at /opt/ml/model,
    /// labelled with the endpoint.</summary>
    public static ContainerRunOptions RunOptions(MLModel model, string image, AzureMLLocalRequest r)
    {
        if (model.Path == null) throw new ArgumentException("Save the model before deploying it.");
        var env = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [ServerCommandLine.ServePortVariable] = Port.ToString(System.Globalization.CultureInfo.InvariantCulture)
        };
        foreach (var (k, v) in r.Environment ?? new Dictionary<string, string>()) env[k] = v;
        return new ContainerRunOptions
        {
            Image = image, ModelPath = model.Path, HostPort = r.HostPort, HostIp = r.HostIp, ContainerPort = Port, Environment = env,
            Command = [ServerCommandLine.Serve], StartTimeout = r.StartTimeout,
            Labels = new Dictionary<string, string> { [EndpointLabel] = r.EndpointName, [DeploymentLabel] = r.DeploymentName },
        };
    }

    /// <summary>
    /// Runs the deployment through the Docker target: the model's image (built where none is given) with the server on
    /// 5001; an earlier container of the same endpoint and deployment is replaced once the new image is ready.
    /// </summary>
    public static async Task<AzureMLEndpoint> PublishAsync(DockerDeploymentTarget docker, MLModel model, AzureMLLocalRequest r,
        IProgress<DeploymentProgress>? progress, CancellationToken ct)
    {
        AzureMLNames.CheckEndpoint(r.EndpointName);
        AzureMLNames.CheckResource("deployment", r.DeploymentName);
        var image = r.Image;
        if (image == null)
        {
            // The model's own image, built before anything is replaced.
            var build = new DockerDeploymentOptions
            {
                ModelPath = model.Path,
                Tag = ImageFor(r).ToString(),
                Build = r.Build with { Generic = false }
            };
            await docker.BuildImageAsync(build, progress, ct).ConfigureAwait(false);
            image = build.Tag;
        }
        var plan = await docker.PlanAsync(DockerDeploymentOptions.From(RunOptions(model, image, r)), ct).ConfigureAwait(false);
        var old = (await docker.ListAsync(all: true, ct).ConfigureAwait(false)).Select(d => (MLModelContainer)d.Own!)
            .Where(
                c => c.Labels.GetValueOrDefault(EndpointLabel) == r.EndpointName && c.Labels.GetValueOrDefault(DeploymentLabel) == r.DeploymentName)
            .ToList();
        foreach (var c in old)
        {
            progress?.Report(new DeploymentProgress("Publishing to local Docker", $"Replacing container {c.Name}"));
            await docker.DeleteAsync(new DockerDeleteOptions(c.Id) { Grace = TimeSpan.FromSeconds(10) }, progress, ct).ConfigureAwait(false);
        }
        var deployment = await docker.DeployAsync(plan, progress, ct).ConfigureAwait(false);
        return ToEndpoint((MLModelContainer)deployment.Own);
    }

    public static AzureMLEndpoint ToEndpoint(MLModelContainer c)
    {
        var name = c.Labels.GetValueOrDefault(EndpointLabel) ?? c.Name;
        var deployment = c.Labels.GetValueOrDefault(DeploymentLabel) ?? "blue";
        var state = c.State == "running" ? "Succeeded" : c.State;
        return new AzureMLEndpoint(name, "Local", state, c.Url == null ? null : new Uri(c.Url, AzureMLContract.ScorePath.TrimStart('/')), null,
            new Dictionary<string, int>
            {
                [deployment] = 100
            }, [new AzureMLDeploymentInfo(deployment, state, c.ModelName, null, 1)], "local", c.Id, null)
        { Container = c };
    }
}
