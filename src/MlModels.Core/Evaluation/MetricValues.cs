using System.Collections;
using System.Diagnostics.CodeAnalysis;

namespace MlModels.Core.Evaluation;

/// <summary>Metrics by name that enumerate in the order they were set (MLflow's order), which Dictionary does not promise.</summary>
internal sealed class MetricValues : IReadOnlyDictionary<string, double>
{
    private readonly List<KeyValuePair<string, double>> _ordered = [];
    private readonly Dictionary<string, double> _byName = new(StringComparer.Ordinal);

    public void Add(string name, double value)
    {
        _byName.Add(name, value);
        _ordered.Add(new(name, value));
    }

    public double this[string key] => _byName[key];

    public IEnumerable<string> Keys => _ordered.Select(p => p.Key);

    public IEnumerable<double> Values => _ordered.Select(p => p.Value);

    public int Count => _ordered.Count;

    public bool ContainsKey(string key) => _byName.ContainsKey(key);

    public bool TryGetValue(string key, [MaybeNullWhen(false)] out double value) => _byName.TryGetValue(key, out value);

    public IEnumerator<KeyValuePair<string, double>> GetEnumerator() => _ordered.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
