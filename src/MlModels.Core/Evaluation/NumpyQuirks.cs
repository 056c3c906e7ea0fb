using System.Globalization;
using System.Numerics;

namespace MlModels.Core.Evaluation;

/// <summary>Where scikit-learn's answer depends on how numpy rounds, the same rounding, reproduced.</summary>
internal static class NumpyQuirks
{
    /// <summary>
    /// numpy's sum of <paramref name="n"/> copies of <paramref name="value"/>: np.add.reduce over a contiguous float64
    /// array adds, one after another, the pairwise sums of its 8192-element buffers (pairwise: blocks of up to 128 in
    /// 8 lanes, longer runs halved at a multiple of 8). r2_score's mean of constant targets comes out a little off the
    /// constant this way, and then scikit-learn's total sum of squares is not zero.
    /// </summary>
    public static double PairwiseSumOfCopies(double value, long n)
    {
        const int Buffer = 8192;
        var memo = new Dictionary<long, double>();
        double total = 0.0;
        for (long i = 0; i < n / Buffer; i++) total += Sum(Buffer);
        if (n % Buffer != 0) total += Sum(n % Buffer);
        return total;

        double Sum(long count)
        {
            if (memo.TryGetValue(count, out var known)) return known;
            double result;
            if (count < 8)
            {
                result = 0.0;
                for (long i = 0; i < count; i++) result += value;
            }
            else if (count <= 128)
            {
                // Eight lanes start at the first eight values and take every eighth after them.
                long rounds = (count - (count % 8)) / 8;
                double lane = value;
                for (long i = 1; i < rounds; i++) lane += value;
                result = ((lane + lane) + (lane + lane)) + ((lane + lane) + (lane + lane));
                for (long i = count - (count % 8); i < count; i++) result += value;
            }
            else
            {
                long half = count / 2;
                half -= half % 8;
                result = Sum(half) + Sum(count - half);
            }
            memo[count] = result;
            return result;
        }
    }

    /// <summary>Python's <c>f"{x:.3f}"</c>: the exact binary value rounded half to even (.NET rounds exact halves up).</summary>
    public static string Fixed3(double x)
    {
        if (double.IsNaN(x)) return "nan";
        if (double.IsInfinity(x)) return x > 0 ? "inf" : "-inf";
        long bits = BitConverter.DoubleToInt64Bits(x);
        bool negative = bits < 0;
        int exponent = (int)((bits >> 52) & 0x7FF);
        long mantissa = bits & 0xFFFFFFFFFFFFFL;
        if (exponent == 0) exponent = 1;
        else mantissa |= 1L << 52;
        exponent -= 1075; // |x| = mantissa * 2^exponent

        // round(|x| * 1000) half to even, exactly.
        BigInteger numerator = new BigInteger(mantissa) * 1000;
        BigInteger thousandths;
        if (exponent >= 0)
        {
            thousandths = numerator << exponent;
        }
        else
        {
            BigInteger denominator = BigInteger.One << -exponent;
            thousandths = BigInteger.DivRem(numerator, denominator, out var remainder);
            int half = (remainder * 2).CompareTo(denominator);
            if (half > 0 || (half == 0 && !thousandths.IsEven)) thousandths += 1;
        }
        var digits = thousandths.ToString(CultureInfo.InvariantCulture).PadLeft(4, '0');
        var sign = negative ? "-" : "";
        return $"{sign}{digits[..^3]}.{digits[^3..]}";
    }
}
