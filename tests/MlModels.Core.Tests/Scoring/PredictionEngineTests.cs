using MlModels.Core.Format;
using MlModels.Core.Scoring;

namespace MlModels.Core.Tests.Scoring;

/// <summary>The scoring decisions the cmdlet and the server share: how params merge, and how large a batch is.</summary>
[Trait("Category", "Fast")]
public class PredictionEngineTests
{
    private const string Onnx = "onnx: {data: model.onnx, onnx_version: 1.14.0}";
    private const string Python = "python_function: {loader_module: mlflow.sklearn, python_version: 3.11.2}";

    private static MLModel ModelWithParams(string flavor) => ModelStore.Parse(
        "flavors:\n  " + flavor + "\n" +
        "signature:\n" +
        "  inputs: '[{\"type\": \"double\", \"name\": \"x\", \"required\": true}]'\n" +
        "  outputs: null\n" +
        "  params: '[{\"name\": \"k\", \"type\": \"long\", \"default\": 1, \"shape\": null}," +
        " {\"name\": \"mode\", \"type\": \"string\", \"default\": \"a\", \"shape\": null}]'\n");

    private static ScoringRequest Request(string paramsJson) =>
        ScoringRequest.Parse("{\"dataframe_split\": {\"columns\": [\"x\"], \"data\": [[1.0]]}, \"params\": " + paramsJson + "}");

    [Fact]
    public void ParamsFor_GivenValueReplacesTheRequestsOfTheSameName()
    {
        using var request = Request("{\"k\": 3, \"mode\": \"b\"}");
        var given = new Dictionary<string, object?> { ["k"] = 7L };
        var merged = PredictionEngine.ParamsFor(ModelWithParams(Onnx), request, given, null);
        Assert.Equal(7L, merged["k"]);
        Assert.Equal("b", merged["mode"]);
    }

    [Fact]
    public void ParamsFor_TakesTheRequestsAloneAndFillsDefaults()
    {
        using var request = Request("{\"mode\": \"c\"}");
        var merged = PredictionEngine.ParamsFor(ModelWithParams(Onnx), request, null, null);
        Assert.Equal(1L, merged["k"]);
        Assert.Equal("c", merged["mode"]);
        Assert.Equal(merged, PredictionEngine.ParamsFor(ModelWithParams(Onnx), request, new Dictionary<string, object?>(), null));
    }

    [Fact]
    public void ParamsFor_WithoutARequest_EnforcesTheGivenOnes()
    {
        var warnings = new List<string>();
        var given = new Dictionary<string, object?> { ["mode"] = "z", ["extra"] = 1L };
        var merged = PredictionEngine.ParamsFor(ModelWithParams(Python), null, given, warnings.Add);
        Assert.Equal(1L, merged["k"]);
        Assert.Equal("z", merged["mode"]);
        Assert.False(merged.ContainsKey("extra"));
        Assert.Contains(warnings, w => w.Contains("'extra'", StringComparison.Ordinal));
        var bad = Assert.Throws<SchemaViolationException>(() =>
            PredictionEngine.ParamsFor(ModelWithParams(Python), null, new Dictionary<string, object?> { ["k"] = "text" }, null));
        Assert.Equal("k", bad.Column);
    }

    [Fact]
    public void ParamsFor_RequestParamsThatAreNotADictionary_AreRefusedEvenWithGivenOnes()
    {
        using var request = Request("5");
        var given = new Dictionary<string, object?> { ["k"] = 2L };
        var ex = Assert.Throws<SchemaViolationException>(() => PredictionEngine.ParamsFor(ModelWithParams(Onnx), request, given, null));
        Assert.StartsWith("Parameters must be a dictionary.", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ScoreRequest_AndParamsFor_AgreeOnTheRequestsParams()
    {
        // ScoreRequest (the server's path) takes no params of its own: what it applies is ParamsFor with none given.
        using var request = Request("{\"k\": 4}");
        var model = ModelWithParams(Onnx);
        Assert.Equal(new Dictionary<string, object?> { ["k"] = 4L, ["mode"] = "a" }, PredictionEngine.ParamsFor(model, request, null, null));
    }

    [Theory]
    [InlineData(Onnx, 0, PredictionEngine.OnnxBatchSize)]
    [InlineData(Python, 0, PredictionEngine.PythonBatchSize)]
    [InlineData(Onnx, 123, 123)]
    [InlineData(Python, 7, 7)]
    public void BatchSizeFor_ChoosesByBackendUnlessAsked(string flavor, int requested, int expected) =>
        Assert.Equal(expected, PredictionEngine.BatchSizeFor(ModelWithParams(flavor), requested));

    [Fact]
    public void BatchSizeFor_AModelNotYetKnown_TakesTheSmallerSize()
    {
        Assert.Equal(10_000, PredictionEngine.BatchSizeFor(null));
        Assert.Equal(50_000, PredictionEngine.PythonBatchSize);
        Assert.Equal(5, PredictionEngine.BatchSizeFor(null, 5));
    }
}
