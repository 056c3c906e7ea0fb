using System.Globalization;

namespace MlModels.Core.Evaluation.Plots;

/// <summary>Axis ranges and tick values at 1, 2 or 5 × 10^k, and their labels.</summary>
internal static class Ticks
{
    /// <summary>Where data beyond ±1e300 is left off an automatic range, so that the range's width stays finite.</summary>
    private const double Huge = 1e300;

    /// <summary>The smallest step of 1, 2 or 5 × 10^k that splits the span into at most the given number of intervals.</summary>
    public static double Step(double span, int maxIntervals)
    {
        double raw = span / Math.Max(1, maxIntervals);
        double magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        foreach (var m in (ReadOnlySpan<double>)[1, 2, 5])
            if (m * magnitude >= raw * (1 - 1e-9)) return m * magnitude;
        return 10 * magnitude;
    }

    /// <summary>The multiples of the step from min to max (both included when they are multiples), -0 written as 0.</summary>
    public static List<double> Values(double min, double max, double step)
    {
        var values = new List<double>();
        double first = Math.Ceiling((min / step) - 1e-9), last = Math.Floor((max / step) + 1e-9);
        for (double k = first; k <= last && values.Count <= 1000; k++)
        {
            double v = k * step;
            values.Add(Math.Abs(v) < step * 1e-9 ? 0 : v);
        }
        return values;
    }

    /// <summary>
    /// A tick's label with as many decimals as the step needs (0.2 steps: "0.4"; 5 steps: "15"); from a million up, or
    /// where more than six decimals would be needed, in the form "1.5e6".
    /// </summary>
    public static string Format(double value, double step, double largest)
    {
        int decimals = Decimals(step);
        if (largest < 1e6 && decimals <= 6) return value.ToString("F" + decimals, CultureInfo.InvariantCulture);
        if (value == 0) return "0";
        int exponent = (int)Math.Floor(Math.Log10(largest));
        double unit = Math.Pow(10, exponent);
        return (value / unit).ToString("F" + Decimals(step / unit), CultureInfo.InvariantCulture)
            + "e" + exponent.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>Widens [min, max] to take in v, when v is finite and within ±1e300 (start from +∞, −∞).</summary>
    public static void Extend(ref double min, ref double max, double v)
    {
        if (!double.IsFinite(v) || Math.Abs(v) > Huge) return;
        if (v < min) min = v;
        if (v > max) max = v;
    }

    /// <summary>
    /// An automatic range: the data's with a 5% margin each side, ±0.5 (or ±5% from ±10 up) around a single value, 0 to
    /// 1 without data.
    /// </summary>
    public static (double Min, double Max) Auto(double min, double max)
    {
        if (min > max) return (0, 1);
        if (IsPoint(min, max)) return Widen(min);
        double margin = (max - min) * 0.05;
        return (min - margin, max + margin);
    }

    /// <summary>A range the caller gave: finite, min not above max; a single value widened as <see cref="Auto"/> does.</summary>
    public static (double Min, double Max) Given((double Min, double Max) range, string name)
    {
        if (!double.IsFinite(range.Min) || !double.IsFinite(range.Max) || range.Min > range.Max
            || Math.Abs(range.Min) > Huge || Math.Abs(range.Max) > Huge)
        {
            throw new ArgumentException($"{name} must be two finite numbers, the first not above the second; it is {range}.", name);
        }
        return IsPoint(range.Min, range.Max) ? Widen(range.Min) : range;
    }

    private static bool IsPoint(double min, double max) => max - min <= 1e-12 * Math.Max(Math.Abs(min), Math.Abs(max));

    private static (double Min, double Max) Widen(double v)
    {
        double d = Math.Max(0.5, Math.Abs(v) * 0.05);
        return (v - d, v + d);
    }

    private static int Decimals(double step) => Math.Max(0, -(int)Math.Floor(Math.Log10(step) + 1e-9));
}
