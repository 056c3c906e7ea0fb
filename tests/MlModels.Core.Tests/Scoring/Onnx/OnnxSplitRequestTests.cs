using System.Text;
using CsCheck;
using MlModels.Core.Format;
using MlModels.Core.Scoring;
using MlModels.Core.Scoring.Onnx;
using MlModels.Core.Tests.Robustness;

namespace MlModels.Core.Tests.Scoring.Onnx;

/// <summary>
/// The server's short way for dataframe_split requests answers byte for byte as the general path does, and declines
/// (leaving the general path to answer, errors included) every request it does not take.
/// </summary>
[Trait("Category", "Fast")]
public class OnnxSplitRequestTests
{
    private static readonly Lazy<OnnxScorer> Tensor = new(() =>
        OnnxScorer.Load(OnnxPackager.Save(Path.Combine(TestPaths.RepoRoot, "tests/fixtures/onnx/linear.onnx"), Path.Combine(TestPaths.NewTempDir(), "linear-tensor"))));

    private static readonly Gen<string> Number = Gen.OneOf(
        Gens.Number,
        Gen.Float.Select(f => ((double)f).ToString("R", System.Globalization.CultureInfo.InvariantCulture)),
        Gen.OneOf("1e39", "-3.4028235e38", "3.4028236e38", "1e-46", "0.30000000000000004", "1.00000001", " 1", "1 "));

    private static readonly Gen<string> Cell = Gen.Frequency((30, Number), (1, Gen.OneOf("null", "\"1.5\"", "true", "[1]", "NaN")));

    /// <summary>dataframe_split requests for a three-column input: mostly well-formed, some with a width, key or value the short way declines.</summary>
    private static readonly Gen<string> Request =
        Gen.Select(Gen.Int[0, 40], Cell.Array[3, 3].Array[0, 4], Gen.Int[0, 9], Gen.Bool).Select((variant, rows, shape, spaced) =>
        {
            var sep = spaced ? ", " : ",";
            var names = variant == 1 ? new[] { "a", "b" } : variant == 2 ? new[] { "a", "b", "c", "d" } : new[] { "x1", "x2", "x3" };
            var columns = "\"columns\": [" + string.Join(sep, names.Select(Gens.Quote)) + "]";
            var data = "\"data\": [" + string.Join(sep, rows.Select((r, i) => "[" + string.Join(sep, variant == 3 && i == 0 ? r.Take(2) : r) + "]")) + "]";
            var split = shape switch
            {
                0 => "{" + data + sep + columns + "}",
                1 => "{" + columns + sep + data + sep + "\"index\": [0]}",
                2 => "{" + columns + sep + data + sep + columns + "}",
                3 => "{" + data + "}",
                _ => "{" + columns + sep + data + "}",
            };
            return variant switch
            {
                4 => "{\"dataframe_split\": " + split + ", \"params\": {}}",
                5 => "{\"dataframe_split\": " + split + "} x",
                6 => " {\"dataframe_split\" : " + split + " }\n",
                7 => "{\"dataframe_split\": " + split.Replace("x1", "\\u0078\\u0031") + "}",
                _ => "{\"dataframe_split\": " + split + "}",
            };
        });

    private static (bool Taken, string? Fast, string General) Both(byte[] body)
    {
        var scorer = Tensor.Value;
        string general;
        try
        {
            using var request = ScoringRequest.Parse(body, "the request body");
            general = Encoding.UTF8.GetString(PredictionJsonWriter.ToBytes(PredictionEngine.ScoreRequest(scorer, request, null), request.IsUnified));
        }
        catch (Exception ex)
        {
            general = "error: " + ex.Message;
        }
        var split = OnnxSplitRequest.For(scorer)!;
        bool taken = split.TryScore(body, default, out var prediction);
        return (taken, taken ? Encoding.UTF8.GetString(PredictionJsonWriter.ToBytes(prediction!)) : null, general);
    }

    [Fact]
    public void TakenRequests_AreAnsweredAsTheGeneralPathAnswers_AndTheRestDeclined()
    {
        int taken = 0, declined = 0;
        PropertyCheck.ForAll(Request, r =>
        {
            var (t, fast, general) = Both(Encoding.UTF8.GetBytes(r));
            if (t) { taken++; Assert.Equal(general, fast); }
            else declined++;
        }, 1500, 31, r => r);
        // Both ways are exercised, or the comparison above proves nothing.
        Assert.True(taken > 250, $"the short way took {taken} requests");
        Assert.True(declined > 250, $"the short way declined {declined} requests");
    }

    [Fact]
    public void MutatedRequests_TakenOnlyWhenTheGeneralPathScoresThemTheSame() =>
        PropertyCheck.ForAll(Gens.Mutated(Request), b =>
        {
            var (t, fast, general) = Both(b);
            if (t) Assert.Equal(general, fast);
        }, 2000, 32, PropertyCheck.Show);

    [Fact]
    public void OneRow_IsTaken_AndAnsweredAsMLflowWritesRecords()
    {
        var (t, fast, general) = Both(Encoding.UTF8.GetBytes("{\"dataframe_split\": {\"columns\": [\"x1\", \"x2\", \"x3\"], \"data\": [[1, 2.5, -3e-1]]}}"));
        Assert.True(t);
        Assert.Equal(general, fast);
        Assert.StartsWith("{\"predictions\": [{\"", fast);
    }

    [Fact]
    public void ConcurrentSmallRequests_ThroughReusedBindings_EachGetTheirOwnAnswer()
    {
        // Small requests run on reused, bound input and output buffers: concurrent ones must never see each other's numbers.
        var split = OnnxSplitRequest.For(Tensor.Value)!;
        Parallel.For(0, 400, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
        {
            var rows = Enumerable.Range(0, 1 + i % 5).Select(r => $"[{i}.5, {r}, -{i % 7}e-1]");
            var body = Encoding.UTF8.GetBytes("{\"dataframe_split\": {\"columns\": [\"x1\", \"x2\", \"x3\"], \"data\": [" +
                string.Join(", ", rows) + "]}}");
            var (t, fast, general) = Both(body);
            Assert.True(t);
            Assert.Equal(general, fast);
            using var cts = new CancellationTokenSource();
            Assert.True(split.TryScore(body, cts.Token, out var again));
            Assert.Equal(general, Encoding.UTF8.GetString(PredictionJsonWriter.ToBytes(again!)));
        });
    }

    [Fact]
    public void AColumnSignature_OrParams_LeaveEveryRequestToTheGeneralPath()
    {
        var m = OnnxPackager.Save(Path.Combine(TestPaths.RepoRoot, "tests/fixtures/onnx/linear.onnx"), Path.Combine(TestPaths.NewTempDir(), "linear-columns"));
        m.Signature = new ModelSignature(new Schema([new ColumnSpec("x1", DataType.Double), new ColumnSpec("x2", DataType.Double), new ColumnSpec("x3", DataType.Double)]), null);
        using var columns = OnnxScorer.Load(ModelStore.Save(m, m.Path!, new SaveOptions(Force: true)));
        Assert.Null(OnnxSplitRequest.For(columns));

        var p = OnnxPackager.Save(Path.Combine(TestPaths.RepoRoot, "tests/fixtures/onnx/linear.onnx"), Path.Combine(TestPaths.NewTempDir(), "linear-params"));
        p.Signature = new ModelSignature(p.Signature!.Inputs, p.Signature.Outputs, ParamSchema.Parse("[{\"name\": \"k\", \"type\": \"long\", \"default\": 1, \"shape\": null}]", "params"));
        using var withParams = OnnxScorer.Load(ModelStore.Save(p, p.Path!, new SaveOptions(Force: true)));
        Assert.Null(OnnxSplitRequest.For(withParams));
    }
}
