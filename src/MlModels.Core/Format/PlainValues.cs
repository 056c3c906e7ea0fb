using System.Collections;
using System.Globalization;
using System.Numerics;

namespace MlModels.Core.Format;

/// <summary>Turns caller values (hashtables, arrays, numbers, dates) into the plain tree an MLmodel file holds.</summary>
public static class PlainValues
{
    public static object? From(object? value, string field, int depth = 0)
    {
        if (depth > 64) throw new ArgumentException($"{field}: the value nests more than 64 levels deep.");
        return value switch
        {
            null => null,
            string or bool or long or double or Yaml.YamlTimestamp => value,
            int or short or byte or sbyte or ushort or uint => Convert.ToInt64(value, CultureInfo.InvariantCulture),
            // Integers stay exact at any size, as PyYAML's do: long when they fit, else BigInteger.
            ulong u => u <= long.MaxValue ? (long)u : (object)new BigInteger(u),
            BigInteger b => b >= long.MinValue && b <= long.MaxValue ? (object)(long)b : b,
            float f => (double)f,
            decimal m => decimal.Truncate(m) != m ? (double)m : m >= long.MinValue && m <= long.MaxValue ? (long)m : (object)new BigInteger(m),
            DateTime dt => Timestamps.Format(dt),
            DateTimeOffset dto => Timestamps.Format(dto.UtcDateTime),
            Guid g => g.ToString("N"),
            Enum e => e.ToString(),
            char c => c.ToString(),
            IDictionary dict => FromDictionary(dict, field, depth),
            IEnumerable list => list.Cast<object?>().Select((v, i) => From(v, $"{field}[{i}]", depth + 1)).ToList(),
            _ => throw new ArgumentException($"{field}: a value of type {value.GetType().FullName} cannot be written to an MLmodel " +
                $"file; use text, numbers, booleans, lists or hashtables."),
        };
    }

    private static Dictionary<string, object?> FromDictionary(IDictionary dict, string field, int depth)
    {
        var d = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (DictionaryEntry e in dict)
        {
            var key = Convert.ToString(e.Key, CultureInfo.InvariantCulture) ?? "";
            d[key] = From(e.Value, $"{field}.{key}", depth + 1);
        }
        return d;
    }

    /// <summary>Deep equality of two plain trees (doubles by value, NaN equal to NaN).</summary>
    public static bool DeepEquals(object? a, object? b)
    {
        switch (a, b)
        {
            case (null, null): return true;
            case (IDictionary<string, object?> da, IDictionary<string, object?> db):
                return da.Count == db.Count && da.All(kv => db.TryGetValue(kv.Key, out var v) && DeepEquals(kv.Value, v));
            case (IList la, IList lb):
                if (la.Count != lb.Count) return false;
                for (int i = 0; i < la.Count; i++) if (!DeepEquals(la[i], lb[i])) return false;
                return true;
            case (double x, double y): return x.Equals(y);
            default: return Equals(a, b);
        }
    }
}
