namespace MlModels.Deploy;

/// <summary>How to reach a target: one typed settings record per target (an engine address, an AWS profile, a workspace).</summary>
public abstract record DeploymentTargetSettings;

/// <summary>
/// Makes deployment targets by name (PSResourceGet's ServerFactory shape). Each target registers a constructor that
/// takes its typed settings. <see cref="Default"/> knows every target this assembly has; adding one is a class and a
/// line here.
/// </summary>
public sealed class DeploymentTargetFactory
{
    private readonly Dictionary<string, Func<DeploymentTargetSettings, IDeploymentTarget>> _targets = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Docker, SageMaker, Azure ML and Kubernetes, as the cmdlets use them.</summary>
    public static DeploymentTargetFactory Default { get; } = new DeploymentTargetFactory()
        .Register(Docker.DockerDeploymentTarget.TargetName, Docker.DockerDeploymentTarget.Create)
        .Register(SageMaker.SageMakerDeploymentTarget.TargetName, SageMaker.SageMakerDeploymentTarget.Create)
        .Register(AzureML.AzureMLDeploymentTarget.TargetName, AzureML.AzureMLDeploymentTarget.Create)
        .Register(Kubernetes.KubernetesDeploymentTarget.TargetName, Kubernetes.KubernetesDeploymentTarget.Create);

    public DeploymentTargetFactory Register(string name, Func<DeploymentTargetSettings, IDeploymentTarget> create)
    {
        _targets[name] = create;
        return this;
    }

    public IReadOnlyCollection<string> Names => _targets.Keys;

    public IDeploymentTarget Create(string name, DeploymentTargetSettings settings)
    {
        if (!_targets.TryGetValue(name, out var create))
            throw new ArgumentException(
                $"There is no deployment target '{name}'. Known targets: {string.Join(", ", _targets.Keys.Order())}.",
                nameof(name));
        return create(settings);
    }

    /// <summary>The target of that name as its own class, for the operations only it has (batch jobs, logs, transforms).</summary>
    public T Create<T>(string name, DeploymentTargetSettings settings) where T : IDeploymentTarget =>
        Create(name, settings) is T t ? t : throw new InvalidOperationException($"The target '{name}' is not a {typeof(T).Name}.");

    /// <summary>The settings as the target's own type, or an error naming both.</summary>
    public static T SettingsAs<T>(string target, DeploymentTargetSettings settings) where T : DeploymentTargetSettings =>
        settings as T ?? throw new ArgumentException($"The {target} target takes {typeof(T).Name}, not {settings.GetType().Name}.", nameof(settings));
}
