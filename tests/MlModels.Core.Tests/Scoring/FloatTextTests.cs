using System.Globalization;
using System.Text;
using MlModels.Core.Scoring;

namespace MlModels.Core.Tests.Scoring;

[Trait("Category", "Fast")]
public class FloatTextTests
{
    private static string Ours(float v)
    {
        Span<byte> buffer = stackalloc byte[64];
        return FloatText.TryFormat(v, buffer, out var n) ? Encoding.UTF8.GetString(buffer[..n]) : "(declined)";
    }

    private static string DotNets(float v)
    {
        Span<byte> buffer = stackalloc byte[64];
        Assert.True(v.TryFormat(buffer, out var n, default, CultureInfo.InvariantCulture));
        return Encoding.UTF8.GetString(buffer[..n]);
    }

    [Theory]
    [InlineData(-11.135376f, "-11.135376")]
    [InlineData(0.1f, "0.1")]
    [InlineData(1.5f, "1.5")]
    [InlineData(-0.0012345f, "-0.0012345")]
    [InlineData(8388607.5f, "8388607.5")]
    [InlineData(3f, "3")]
    [InlineData(123456.7f, "123456.7")]
    public void CommonValues_AreWrittenAsDotNetWritesThem(float v, string text)
    {
        Assert.Equal(text, DotNets(v));
        Assert.Equal(text, Ours(v));
    }

    [Fact]
    public void ValuesOutsideTheRange_AreLeftToDotNet()
    {
        foreach (var v in new[] { 0f, -0f, 1f, 2f, 0.5f, 8388608f, 1e9f, 1e-5f, float.NaN, float.PositiveInfinity, float.Epsilon, float.MaxValue })
            Assert.Equal("(declined)", Ours(v));
    }

    /// <summary>
    /// Every float in the range it takes, at a stride; MLMODELS_FLOATTEXT_STRIDE=1 checks all of them, both signs
    /// (about 570 million values, some minutes).
    /// </summary>
    [Fact]
    public void EveryValueItTakes_IsDotNetsTextOrDeclined()
    {
        int stride = int.TryParse(Environment.GetEnvironmentVariable("MLMODELS_FLOATTEXT_STRIDE"), out var s) && s > 0 ? s : 997;
        uint first = BitConverter.SingleToUInt32Bits(MathF.Pow(2, -10)), last = BitConverter.SingleToUInt32Bits(MathF.Pow(2, 23));
        Span<byte> ours = stackalloc byte[64];
        Span<byte> theirs = stackalloc byte[64];
        long declined = 0, taken = 0;
        for (uint sign = 0; sign <= 1; sign++)
        {
            for (uint bits = first; bits < last; bits += (uint)stride)
            {
                float v = BitConverter.UInt32BitsToSingle(bits | (sign << 31));
                Assert.True(v.TryFormat(theirs, out var m, default, CultureInfo.InvariantCulture));
                if (!FloatText.TryFormat(v, ours, out var n)) { declined++; continue; }
                taken++;
                if (!ours[..n].SequenceEqual(theirs[..m]))
                    Assert.Fail($"{bits:X8}: {Encoding.UTF8.GetString(ours[..n])} against .NET's {Encoding.UTF8.GetString(theirs[..m])}");
            }
        }
        Assert.True(declined * 1000 < taken, $"{declined} declined of {declined + taken}");
    }
}
