namespace MlModels.Deploy;

/// <summary>
/// Makes deployment targets by name (PSResourceGet's ServerFactory shape). Each target registers a constructor that
/// takes the caller's settings (credentials, region, endpoint overrides, an HttpMessageHandler for tests).
/// </summary>
public sealed class DeploymentTargetFactory
{
    private readonly Dictionary<string, Func<IReadOnlyDictionary<string, object?>, IDeploymentTarget>> _targets = new(StringComparer.OrdinalIgnoreCase);

    public DeploymentTargetFactory Register(string name, Func<IReadOnlyDictionary<string, object?>, IDeploymentTarget> create)
    {
        _targets[name] = create;
        return this;
    }

    public IReadOnlyCollection<string> Names => _targets.Keys;

    public IDeploymentTarget Create(string name, IReadOnlyDictionary<string, object?>? settings = null)
    {
        if (!_targets.TryGetValue(name, out var create))
            throw new ArgumentException($"There is no deployment target '{name}'. Known targets: {string.Join(", ", _targets.Keys.Order())}.", nameof(name));
        return create(settings ?? new Dictionary<string, object?>());
    }
}
