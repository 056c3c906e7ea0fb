using System.Collections;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace MlModels.Core.Format.Yaml;

/// <summary>
/// Writes plain values as YAML the way MLflow's <c>yaml.safe_dump(default_flow_style=False)</c> does:
/// block style, keys sorted, strings quoted whenever PyYAML would otherwise read them as another type.
/// </summary>
public static partial class YamlWriter
{
    public static string Write(object? value) => Write(value, int.MaxValue);

    /// <summary>With <paramref name="width"/> 80, long scalars are folded across lines as PyYAML's default width folds them.</summary>
    public static string Write(object? value, int width)
    {
        var sb = new StringBuilder();
        using (var w = new StringWriter(sb) { NewLine = "\n" })
        {
            var emitter = new Emitter(w, new EmitterSettings(2, width, false, 1024, true, newLine: "\n"));
            emitter.Emit(new StreamStart());
            emitter.Emit(new DocumentStart(null, null, true));
            Emit(emitter, value, 0);
            emitter.Emit(new DocumentEnd(true));
            emitter.Emit(new StreamEnd());
        }
        return sb.ToString();
    }

    private static void Emit(IEmitter e, object? value, int depth)
    {
        if (depth > 200) throw new InvalidOperationException("Value nests too deeply to write as YAML.");
        switch (value)
        {
            case null:
                e.Emit(new Scalar(null, null, "null", ScalarStyle.Plain, true, false));
                break;
            case string s:
                EmitString(e, s);
                break;
            case YamlTimestamp ts:
                e.Emit(new Scalar(null, null, ts.Text, ScalarStyle.Plain, true, false));
                break;
            case bool b:
                e.Emit(new Scalar(null, null, b ? "true" : "false", ScalarStyle.Plain, true, false));
                break;
            case double or float or decimal:
                e.Emit(new Scalar(null, null, FormatFloat(Convert.ToDouble(value, CultureInfo.InvariantCulture)), ScalarStyle.Plain, true, false));
                break;
            case sbyte or byte or short or ushort or int or uint or long or ulong or System.Numerics.BigInteger:
                e.Emit(new Scalar(null, null, Convert.ToString(value, CultureInfo.InvariantCulture)!, ScalarStyle.Plain, true, false));
                break;
            case DateTime dt:
                EmitString(e, Timestamps.Format(dt));
                break;
            case Enum en:
                EmitString(e, en.ToString());
                break;
            case IDictionary dict:
            {
                var keys = new List<string>();
                var map = new Dictionary<string, object?>(StringComparer.Ordinal);
                foreach (DictionaryEntry entry in dict)
                {
                    var k = Convert.ToString(entry.Key, CultureInfo.InvariantCulture) ?? "";
                    if (map.ContainsKey(k)) throw new InvalidOperationException($"Duplicate key '{k}'.");
                    map[k] = entry.Value;
                    keys.Add(k);
                }
                keys.Sort(StringComparer.Ordinal);
                bool empty = keys.Count == 0;
                e.Emit(new MappingStart(null, null, true, empty ? MappingStyle.Flow : MappingStyle.Block));
                foreach (var k in keys)
                {
                    EmitString(e, k);
                    Emit(e, map[k], depth + 1);
                }
                e.Emit(new MappingEnd());
                break;
            }
            case IEnumerable list:
            {
                var items = list.Cast<object?>().ToList();
                e.Emit(new SequenceStart(null, null, true, items.Count == 0 ? SequenceStyle.Flow : SequenceStyle.Block));
                foreach (var item in items) Emit(e, item, depth + 1);
                e.Emit(new SequenceEnd());
                break;
            }
            default:
                EmitString(e, Convert.ToString(value, CultureInfo.InvariantCulture) ?? "");
                break;
        }
    }

    private static void EmitString(IEmitter e, string s)
    {
        ScalarStyle style;
        if (NeedsDoubleQuotes(s)) style = ScalarStyle.DoubleQuoted;
        else if (IsSafePlain(s)) style = ScalarStyle.Plain;
        else style = ScalarStyle.SingleQuoted;
        e.Emit(new Scalar(null, null, s, style, true, true));
    }

    private static bool NeedsDoubleQuotes(string s)
    {
        foreach (var c in s)
            if (char.IsControl(c) || c == '\u2028' || c == '\u2029' || c == '\uFEFF') return true;
        return false;
    }

    /// <summary>A string is written plain only when no YAML reader could take it for anything else.</summary>
    internal static bool IsSafePlain(string s) =>
        s.Length > 0 && SafePlain().IsMatch(s) && !s.Contains(": ") && !s.Contains(" #")
        && !s.EndsWith(':') && !YamlReader.ResolvesToNonString(s);

    [GeneratedRegex(@"^[A-Za-z0-9_./(][A-Za-z0-9_./ +()=<>~^:@,\-]*(?<! )$")]
    private static partial Regex SafePlain();

    /// <summary>Python's <c>repr(float)</c> as PyYAML writes it.</summary>
    public static string FormatFloat(double d)
    {
        if (double.IsNaN(d)) return ".nan";
        if (double.IsPositiveInfinity(d)) return ".inf";
        if (double.IsNegativeInfinity(d)) return "-.inf";
        // PyYAML's float representer: repr, with ".0" put before an exponent that has no dot (1e+16 -> 1.0e+16),
        // since its resolver reads a number without a dot as text.
        var r = PyRepr.Float(d);
        return !r.Contains('.') && r.Contains('e') ? r.Replace("e", ".0e") : r;
    }
}

/// <summary>Python's textual forms of numbers, which MLflow files are made of.</summary>
public static class PyRepr
{
    /// <summary><c>repr(float)</c>: shortest round-trip digits, exponent form outside 1e-4 &lt;= |x| &lt; 1e16.</summary>
    public static string Float(double d)
    {
        if (double.IsNaN(d)) return "NaN";
        if (double.IsInfinity(d)) return d > 0 ? "Infinity" : "-Infinity";
        var sign = double.IsNegative(d) ? "-" : "";
        if (d == 0) return sign + "0.0";
        var (digits, point) = Decompose(Math.Abs(d));
        int exp = point - 1;
        if (exp >= -4 && exp < 16)
        {
            if (point <= 0) return sign + "0." + new string('0', -point) + digits;
            if (point >= digits.Length) return sign + digits + new string('0', point - digits.Length) + ".0";
            return sign + digits[..point] + "." + digits[point..];
        }
        var mant = digits.Length > 1 ? digits[0] + "." + digits[1..] : digits;
        return sign + mant + "e" + (exp < 0 ? "-" : "+") + Math.Abs(exp).ToString("00", CultureInfo.InvariantCulture);
    }

    // Shortest round-trip digits d1d2... and the position of the decimal point: value = 0.d1d2... * 10^point.
    private static (string Digits, int Point) Decompose(double abs)
    {
        var r = abs.ToString("R", CultureInfo.InvariantCulture);
        int exp = 0;
        var mant = r;
        int ei = r.IndexOf('E');
        if (ei >= 0) { mant = r[..ei]; exp = int.Parse(r[(ei + 1)..], CultureInfo.InvariantCulture); }
        int dot = mant.IndexOf('.');
        var intPart = dot >= 0 ? mant[..dot] : mant;
        var all = intPart + (dot >= 0 ? mant[(dot + 1)..] : "");
        int point = intPart.Length + exp;
        int lead = 0;
        while (lead < all.Length - 1 && all[lead] == '0') lead++;
        all = all[lead..].TrimEnd('0');
        point -= lead;
        return (all.Length == 0 ? "0" : all, point);
    }
}
