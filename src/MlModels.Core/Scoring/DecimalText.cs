namespace MlModels.Core.Scoring;

/// <summary>
/// The short way for the commonest CSV cell: a plain decimal (<c>-1.234567</c>, <c>12</c>, <c>5e-3</c>) whose value
/// one IEEE multiplication or division computes exactly rounded (Clinger's fast path). Anything else — spaces,
/// quotes, NaN and infinity spellings, long digit strings, large exponents — returns false and takes the general
/// parsers, so a value never depends on which way it went.
/// </summary>
internal static class DecimalText
{
    // Powers of ten that float and double hold exactly: 10^10 is the largest for float (5^10 < 2^24), 10^22 for double.
    private static readonly float[] FloatPowers = [1e0f, 1e1f, 1e2f, 1e3f, 1e4f, 1e5f, 1e6f, 1e7f, 1e8f, 1e9f, 1e10f];

    private static readonly double[] DoublePowers =
    [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ];

    public static bool TryParse(ReadOnlySpan<char> s, out float value)
    {
        value = 0;
        if (!TryDecompose(s, out var mantissa, out var exponent, out var negative)) return false;
        float v;
        if (mantissa == 0) v = 0;
        else if (mantissa > 1 << 24 || exponent < -10 || exponent > 10) return false;
        else v = exponent < 0 ? mantissa / FloatPowers[-exponent] : mantissa * FloatPowers[exponent];
        value = negative ? -v : v;
        return true;
    }

    public static bool TryParse(ReadOnlySpan<char> s, out double value)
    {
        value = 0;
        if (!TryDecompose(s, out var mantissa, out var exponent, out var negative)) return false;
        double v;
        if (mantissa == 0) v = 0;
        else if (mantissa > 1UL << 53 || exponent < -22 || exponent > 22) return false;
        else v = exponent < 0 ? mantissa / DoublePowers[-exponent] : mantissa * DoublePowers[exponent];
        value = negative ? -v : v;
        return true;
    }

    /// <summary>
    /// <c>[+-]digits[.digits][(e|E)[+-]digits]</c> (at least one digit before the exponent) as mantissa × 10^exponent;
    /// false for anything else, or more than 19 significant digits, or an exponent of more than 4 digits.
    /// </summary>
    private static bool TryDecompose(ReadOnlySpan<char> s, out ulong mantissa, out int exponent, out bool negative)
    {
        mantissa = 0;
        exponent = 0;
        negative = false;
        int i = 0, n = s.Length;
        if (n == 0) return false;
        if (s[0] is '-' or '+') { negative = s[0] == '-'; i++; }
        int digits = 0, significant = 0;
        for (; i < n; i++)
        {
            uint d = (uint)(s[i] - '0');
            if (d > 9) break;
            digits++;
            if (mantissa == 0 && d == 0) continue;
            if (++significant > 19) return false;
            mantissa = mantissa * 10 + d;
        }
        if (i < n && s[i] == '.')
        {
            for (i++; i < n; i++)
            {
                uint d = (uint)(s[i] - '0');
                if (d > 9) break;
                digits++;
                exponent--;
                if (mantissa == 0 && d == 0) continue;
                if (++significant > 19) return false;
                mantissa = mantissa * 10 + d;
            }
        }
        if (digits == 0) return false;
        if (i < n && (s[i] | 0x20) == 'e')
        {
            i++;
            bool negativeExponent = false;
            if (i < n && s[i] is '-' or '+') { negativeExponent = s[i] == '-'; i++; }
            int start = i, e = 0;
            for (; i < n; i++)
            {
                uint d = (uint)(s[i] - '0');
                if (d > 9) break;
                e = e * 10 + (int)d;
            }
            if (i == start || i - start > 4) return false;
            exponent += negativeExponent ? -e : e;
        }
        return i == n;
    }
}
