using System.Text;
using MlModels.Core.Scoring;

namespace MlModels.Core.Tests.Scoring;

/// <summary>
/// The runtime lets a ulong[] pass as a long[] and a uint[] as an int[] (and byte[] as sbyte[]), so code that picks a
/// fast path by array type must check the exact type; these values print negative when it does not.
/// </summary>
[Trait("Category", "Fast")]
public class UnsignedArrayTests
{
    [Fact]
    public void PredictionJson_WritesUnsignedValuesPastTheSignedRange()
    {
        var stream = new MemoryStream();
        using (var w = new PyJsonWriter(stream))
        {
            w.Element(new ulong[] { ulong.MaxValue }, 0);
            w.Element(new uint[] { uint.MaxValue }, 0);
            w.Flush();
        }
        Assert.Equal("18446744073709551615, 4294967295", Encoding.UTF8.GetString(stream.ToArray()));
    }
}
