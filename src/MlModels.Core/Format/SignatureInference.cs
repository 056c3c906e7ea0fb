using System.Globalization;
using nietras.SeparatedValues;

namespace MlModels.Core.Format;

/// <summary>
/// Infers a column schema the way MLflow's <c>infer_signature</c> does for a pandas DataFrame:
/// whole numbers give long, other numbers double, True/False boolean, anything else string;
/// a column with missing values is optional.
/// </summary>
public static class SignatureInference
{
    private enum Kind { None, Long, Double, Boolean, String }

    /// <summary>Reads up to <paramref name="maxRows"/> rows of a CSV file with a header row.</summary>
    public static Schema FromCsv(string path, int maxRows = 100_000)
    {
        using var reader = Sep.Reader(o => o with { Unescape = true, DisableColCountCheck = false }).FromFile(path);
        var header = reader.Header.ColNames;
        if (header.Count == 0 || (header.Count == 1 && header[0].Length == 0))
            throw new MLModelFormatException($"{path} has no header row to name the columns.", path, 1, 1);
        var kinds = new Kind[header.Count];
        var missing = new bool[header.Count];
        int rows = 0;
        foreach (var row in reader)
        {
            if (rows++ >= maxRows) break;
            for (int i = 0; i < header.Count; i++)
            {
                var text = row[i].ToString();
                if (text.Length == 0) { missing[i] = true; continue; }
                kinds[i] = Merge(kinds[i], Classify(text));
            }
        }
        return new Schema(header.Select((name, i) => new ColumnSpec(name, ToType(kinds[i]), required: !missing[i])));
    }

    /// <summary>Infers from rows given as name/value maps (hashtables, objects' properties).</summary>
    public static Schema FromRows(IEnumerable<IReadOnlyList<KeyValuePair<string, object?>>> rows)
    {
        var order = new List<string>();
        var types = new Dictionary<string, DataType?>(StringComparer.Ordinal);
        var missing = new HashSet<string>(StringComparer.Ordinal);
        int count = 0;
        foreach (var row in rows)
        {
            count++;
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var (name, value) in row)
            {
                seen.Add(name);
                if (types.TryAdd(name, null)) { order.Add(name); if (count > 1) missing.Add(name); }
                if (value == null || value is DBNull || (value is string s && s.Length == 0)) { missing.Add(name); continue; }
                types[name] = MergeType(types[name], TypeOf(value));
            }
            foreach (var n in order.Where(n => !seen.Contains(n))) missing.Add(n);
        }
        if (order.Count == 0) throw new ArgumentException("There are no rows (or no properties) to infer a signature from.");
        return new Schema(order.Select(n => new ColumnSpec(n, types[n] ?? DataType.String, required: !missing.Contains(n))));
    }

    public static DataType TypeOf(object value) => value switch
    {
        bool => DataType.Boolean,
        byte or sbyte or short or ushort or int => DataType.Integer,
        uint or long or ulong => DataType.Long,
        float => DataType.Float,
        double or decimal => DataType.Double,
        DateTime or DateTimeOffset => DataType.Datetime,
        byte[] => DataType.Binary,
        System.Collections.IDictionary => DataType.Map,
        string => DataType.String,
        System.Collections.IEnumerable => DataType.Array,
        _ => DataType.String,
    };

    private static DataType MergeType(DataType? a, DataType b)
    {
        if (a == null || a == b) return b;
        bool IsNum(DataType t) => t is DataType.Integer or DataType.Long or DataType.Float or DataType.Double;
        if (IsNum(a.Value) && IsNum(b))
        {
            if (a is DataType.Float or DataType.Double || b is DataType.Float or DataType.Double) return DataType.Double;
            return DataType.Long;
        }
        return DataType.String;
    }

    private static Kind Classify(string text)
    {
        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _)) return Kind.Long;
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out _)) return Kind.Double;
        if (text is "True" or "False" or "true" or "false" or "TRUE" or "FALSE") return Kind.Boolean;
        return Kind.String;
    }

    private static Kind Merge(Kind a, Kind b) => (a, b) switch
    {
        (Kind.None, _) => b,
        _ when a == b => a,
        (Kind.Long, Kind.Double) or (Kind.Double, Kind.Long) => Kind.Double,
        _ => Kind.String,
    };

    private static DataType ToType(Kind k) => k switch
    {
        Kind.Long => DataType.Long,
        Kind.Double => DataType.Double,
        Kind.Boolean => DataType.Boolean,
        _ => DataType.String,
    };
}
