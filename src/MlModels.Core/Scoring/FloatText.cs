namespace MlModels.Core.Scoring;

/// <summary>
/// float32's shortest round-trip text, the same bytes as <c>float.TryFormat</c> with the invariant culture gives,
/// for the commonest predictions: normal values from 2^-10 to 2^23, which .NET writes without an exponent. The
/// digits come from exact integer arithmetic: the fewest decimal places at which the value rounded down or up still
/// reads back as itself, the closer of the two (the even one when halfway). Powers of two and candidates on the rounding
/// boundary, where .NET's own rules decide, return false, as does every other value; the caller then formats with .NET.
/// </summary>
internal static class FloatText
{
    private static readonly ulong[] Powers =
    [
        1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000, 1_000_000_000, 10_000_000_000,
        100_000_000_000,
    ];

    public static bool TryFormat(float value, Span<byte> dest, out int written)
    {
        written = 0;
        uint bits = BitConverter.SingleToUInt32Bits(value);
        int exponent = (int)((bits >> 23) & 0xFF) - 127;
        uint fraction = bits & 0x7FFFFF;
        // Outside [2^-10, 2^23) .NET may use an exponent; at a power of two the gap below is half the gap above.
        if (exponent < -10 || exponent > 22 || fraction == 0) return false;
        ulong mantissa = fraction | 0x800000;
        int shift = 23 - exponent; // value = mantissa / 2^shift, shift in 1..33
        ulong one = 1UL << shift, mask = one - 1;
        // mantissa × 10^11 < 2^61, so every product below fits in 64 bits.
        for (int places = 0; places < Powers.Length; places++)
        {
            ulong power = Powers[places];
            // value × 10^places = scaled / 2^shift; a candidate c (an integer) reads back as value when |c·2^shift − scaled|·2 < 10^places.
            ulong scaled = mantissa * power;
            ulong down = scaled >> shift, below = scaled & mask;
            if (below == 0) return Write(bits >> 31 != 0, down, places, dest, out written);
            ulong above = one - below;
            // A candidate exactly on the boundary reads back by round-half-even: .NET's choice there is left to .NET.
            if (below * 2 == power || above * 2 == power) return false;
            bool downFits = below * 2 < power, upFits = above * 2 < power;
            if (downFits && upFits)
            {
                // Halfway between two candidates (the value has one more digit, a 5): the even one, as .NET writes it.
                ulong nearer = below < above ? down : below > above ? down + 1 : (down & 1) == 0 ? down : down + 1;
                return Write(bits >> 31 != 0, nearer, places, dest, out written);
            }
            if (downFits) return Write(bits >> 31 != 0, down, places, dest, out written);
            if (upFits) return Write(bits >> 31 != 0, down + 1, places, dest, out written);
        }
        return false;
    }

    /// <summary><paramref name="digits"/> / 10^<paramref name="places"/> in fixed notation, trailing zeros dropped.</summary>
    private static bool Write(bool negative, ulong digits, int places, Span<byte> dest, out int written)
    {
        written = 0;
        while (places > 0 && digits % 10 == 0) { digits /= 10; places--; }
        Span<byte> text = stackalloc byte[24];
        int length = 0;
        do { text[length++] = (byte)('0' + (int)(digits % 10)); digits /= 10; } while (digits != 0);
        // text holds the digits in reverse; a value below one gets "0." and leading zeros.
        int integerDigits = Math.Max(length - places, 0);
        int size = (negative ? 1 : 0) + (integerDigits == 0 ? 1 : integerDigits) + (places > 0 ? 1 + places : 0);
        if (size > dest.Length) return false;
        int p = 0;
        if (negative) dest[p++] = (byte)'-';
        if (integerDigits == 0) dest[p++] = (byte)'0';
        for (int i = length - 1; i >= places; i--) dest[p++] = text[i];
        if (places > 0)
        {
            dest[p++] = (byte)'.';
            for (int i = places - 1; i >= 0; i--) dest[p++] = i < length ? text[i] : (byte)'0';
        }
        written = p;
        return true;
    }
}
