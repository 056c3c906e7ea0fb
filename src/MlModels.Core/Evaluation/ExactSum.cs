namespace MlModels.Core.Evaluation;

/// <summary>
/// A double-double accumulator (hi + lo, about 106 bits): sums of a million terms keep every bit a double can show,
/// so a streamed mean agrees with numpy's pairwise one to the last place or so, whatever the order of the rows.
/// </summary>
internal struct ExactSum
{
    public double Hi;
    public double Lo;

    public ExactSum(double hi, double lo)
    {
        Hi = hi;
        Lo = lo;
    }

    public readonly double Value => Hi + Lo;

    public void Add(double x)
    {
        var (s, e) = TwoSum(Hi, x);
        e += Lo;
        (Hi, Lo) = FastTwoSum(s, e);
    }

    public void Add(ExactSum x)
    {
        var (s, e) = TwoSum(Hi, x.Hi);
        e += Lo + x.Lo;
        (Hi, Lo) = FastTwoSum(s, e);
    }

    public static ExactSum operator -(ExactSum a, ExactSum b)
    {
        var r = a;
        r.Add(new ExactSum(-b.Hi, -b.Lo));
        return r;
    }

    public static ExactSum Square(ExactSum a)
    {
        double p = a.Hi * a.Hi;
        double e = Math.FusedMultiplyAdd(a.Hi, a.Hi, -p) + (2 * a.Hi * a.Lo);
        var (h, l) = FastTwoSum(p, e);
        return new ExactSum(h, l);
    }

    public static ExactSum Divide(ExactSum a, double b)
    {
        double q1 = a.Hi / b;
        double p = q1 * b;
        double pe = Math.FusedMultiplyAdd(q1, b, -p);
        double r = (a.Hi - p - pe + a.Lo) / b;
        var (h, l) = FastTwoSum(q1, r);
        return new ExactSum(h, l);
    }

    /// <summary>a + b as the rounded sum and its exact error (Knuth).</summary>
    public static (double Sum, double Error) TwoSum(double a, double b)
    {
        double s = a + b;
        double bb = s - a;
        return (s, (a - (s - bb)) + (b - bb));
    }

    private static (double Sum, double Error) FastTwoSum(double a, double b)
    {
        double s = a + b;
        return (s, b - (s - a));
    }
}
