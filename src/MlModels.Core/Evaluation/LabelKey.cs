using System.Globalization;
using System.Numerics;

namespace MlModels.Core.Evaluation;

/// <summary>
/// The text a class label is compared and sorted by. Numbers are one label whatever their type or spelling, as numpy
/// compares them (1, 1L, 1.0, "1" and "1.0" are all "1"): a .NET number, or a string that parses as an invariant-culture
/// number, becomes its integer digits when integral and its shortest round-trip text otherwise ("2.5", "1E-05"); bool
/// becomes "True"/"False" as Python prints it; any other string is kept as it is.
/// </summary>
public static class LabelKey
{
    private const NumberStyles Number = NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent;

    /// <summary>The key of a label value.</summary>
    /// <exception cref="ArgumentException">The value is null: a missing label has no key.</exception>
    public static string Of(object? value) => value switch
    {
        null or DBNull => throw new ArgumentException("A missing (null) label has no key.", nameof(value)),
        string s => OfString(s),
        bool b => b ? "True" : "False",
        char c => OfString(c.ToString()),
        double d => OfDouble(d),
        float f => float.IsFinite(f) && f == MathF.Floor(f) ? Integral(f) : f.ToString("R", CultureInfo.InvariantCulture),
        Half h => Half.IsFinite(h) && (float)h == MathF.Floor((float)h) ? Integral((double)h) : h.ToString(CultureInfo.InvariantCulture),
        decimal m => m == decimal.Truncate(m) ? decimal.Truncate(m).ToString(CultureInfo.InvariantCulture) : OfDouble((double)m),
        sbyte or byte or short or ushort or int or uint or long or ulong or nint or nuint or Int128 or UInt128 or BigInteger
            => Convert.ToString(value, CultureInfo.InvariantCulture)!,
        IFormattable f => OfString(f.ToString(null, CultureInfo.InvariantCulture)),
        _ => OfString(value.ToString() ?? ""),
    };

    private static string OfString(string s)
    {
        if (s.Length == 0 || s.Length > 1000) return s;
        char first = s[0];
        if (!(char.IsAsciiDigit(first) || first is '-' or '+' or '.' || char.IsAsciiLetter(first))) return s;
        if (BigInteger.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer))
            return integer.ToString(CultureInfo.InvariantCulture);
        return double.TryParse(s, Number, CultureInfo.InvariantCulture, out var d) ? OfDouble(d) : s;
    }

    private static string OfDouble(double d) =>
        double.IsFinite(d) && d == Math.Floor(d) ? Integral(d) : d.ToString("R", CultureInfo.InvariantCulture);

    // Exact digits (1e20 is "100000000000000000000"), so that the long and the double of one integer meet.
    private static string Integral(double d) => new BigInteger(d).ToString(CultureInfo.InvariantCulture);

    /// <summary>Whether a key is a number (and which), as <see cref="Of"/> writes numbers.</summary>
    internal static bool TryNumber(string key, out double value, out BigInteger? integer)
    {
        integer = null;
        value = 0;
        if (key.Length == 0 || key.Length > 1000) return false;
        if (BigInteger.TryParse(key, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var i))
        {
            integer = i;
            value = (double)i;
            return true;
        }
        return double.TryParse(key, Number, CultureInfo.InvariantCulture, out value);
    }
}

/// <summary>
/// The order numpy's np.unique gives labels: numeric when every label is a number, else by code point as Python
/// compares str (UTF-16 ordinal order differs from it only for characters past U+FFFF).
/// </summary>
internal static class LabelOrder
{
    public static List<string> Sort(IEnumerable<string> keys)
    {
        var list = keys.ToList();
        var numbers = new (double Value, BigInteger? Integer)[list.Count];
        bool numeric = true;
        for (int i = 0; i < list.Count && numeric; i++)
        {
            numeric = LabelKey.TryNumber(list[i], out var v, out var bi);
            numbers[i] = (v, bi);
        }
        if (!numeric)
        {
            list.Sort(CompareCodePoints);
            return list;
        }
        var index = Enumerable.Range(0, list.Count).ToArray();
        Array.Sort(index, (a, b) =>
        {
            var (x, y) = (numbers[a], numbers[b]);
            if (x.Integer is { } xi && y.Integer is { } yi) return xi.CompareTo(yi);
            int c = x.Value.CompareTo(y.Value);
            return c != 0 ? c : string.CompareOrdinal(list[a], list[b]);
        });
        return index.Select(i => list[i]).ToList();
    }

    public static int CompareCodePoints(string? a, string? b)
    {
        if (a == null || b == null) return a == null ? (b == null ? 0 : -1) : 1;
        int n = Math.Min(a.Length, b.Length);
        for (int i = 0; i < n; i++)
        {
            char x = a[i], y = b[i];
            if (x == y) continue;
            // Surrogates (U+D800-DFFF) stand for code points above every BMP character: move them past U+FFFF.
            return Fix(x).CompareTo(Fix(y));
        }
        return a.Length.CompareTo(b.Length);

        static int Fix(char c) => c >= 0xD800 ? (c >= 0xE000 ? c - 0x800 : c + 0x2000) : c;
    }
}
