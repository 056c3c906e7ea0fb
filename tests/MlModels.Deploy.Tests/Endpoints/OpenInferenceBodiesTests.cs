using System.Net;
using System.Text;
using System.Text.Json;
using MlModels.Deploy.Endpoints;

namespace MlModels.Deploy.Tests.Endpoints;

/// <summary>The Open Inference (V2) bodies Invoke-MLModelKubernetesEndpoint sends and reads, and the client's addresses.</summary>
[Trait("Category", "Fast")]
public class OpenInferenceBodiesTests
{
    private static IReadOnlyList<KeyValuePair<string, object?>> Row(params (string, object?)[] cells) =>
        [.. cells.Select(c => KeyValuePair.Create(c.Item1, c.Item2))];

    [Fact]
    public void Rows_BecomeOneInputPerColumn_TypedFromTheirValues()
    {
        var body = ScoringBodies.InferenceRequest([Row(("a", 1), ("b", 1.5), ("c", "x"), ("d", true)), Row(("a", 2L), ("b", 2), ("c", "y"), ("d", false))]);
        using var doc = JsonDocument.Parse(body);
        var inputs = doc.RootElement.GetProperty("inputs").EnumerateArray().ToList();
        Assert.Equal(["a", "b", "c", "d"], inputs.Select(i => i.GetProperty("name").GetString()));
        Assert.Equal(["INT64", "FP64", "BYTES", "BOOL"], inputs.Select(i => i.GetProperty("datatype").GetString()));
        Assert.All(inputs, i => Assert.Equal("[2]", i.GetProperty("shape").GetRawText()));
        Assert.Equal("[1,2]", inputs[0].GetProperty("data").GetRawText());
        Assert.Equal("[1.5,2]", inputs[1].GetProperty("data").GetRawText());
        Assert.Equal("""["x","y"]""", inputs[2].GetProperty("data").GetRawText());
    }

    [Fact]
    public void TheModelsDatatypes_WinOverTheValues_AndAValueThatDoesNotFitIsRefused()
    {
        var types = ScoringBodies.InferenceInputTypes(Encoding.UTF8.GetBytes(
            """{"name": "m", "versions": ["1"], "platform": "mlflow", "inputs": [{"name": "a", "datatype": "FP64", "shape": [-1]}], "outputs": []}"""))!;
        Assert.Equal("FP64", types["a"]);
        using var doc = JsonDocument.Parse(ScoringBodies.InferenceRequestFromCsv("a,b\n1,2\n3,4\n", types));
        var inputs = doc.RootElement.GetProperty("inputs").EnumerateArray().ToList();
        Assert.Equal(["FP64", "INT64"], inputs.Select(i => i.GetProperty("datatype").GetString()));
        var ex = Assert.Throws<ArgumentException>(() => ScoringBodies.InferenceRequestFromCsv("a\nhello\n", types));
        Assert.Contains("'a'", ex.Message, StringComparison.Ordinal);
        Assert.Null(ScoringBodies.InferenceInputTypes(Encoding.UTF8.GetBytes("""{"error": "no"}""")));
    }

    [Fact]
    public void AMissingValue_IsRefused()
    {
        var ex = Assert.Throws<ArgumentException>(() => ScoringBodies.InferenceRequest([Row(("a", 1)), Row(("b", 2))]));
        Assert.Contains("Row 1 has no value for 'a'", ex.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => ScoringBodies.InferenceRequest([Row(("a", null))]));
    }

    [Fact]
    public void Outputs_BecomeRowsAlongTheFirstDimension()
    {
        var rows = ScoringBodies.InferenceRows(Encoding.UTF8.GetBytes("""
            {"model_name": "m", "outputs": [
              {"name": "label", "shape": [2], "datatype": "INT64", "data": [0, 1]},
              {"name": "proba", "shape": [2, 2], "datatype": "FP32", "data": [[0.9, 0.1], [0.2, 0.8]]}]}
            """));
        Assert.Equal(2, rows.Count);
        Assert.Equal(1L, (long)rows[1]["label"]!);
        Assert.Equal([0.2, 0.8], (List<object?>)rows[1]["proba"]!);
        Assert.Throws<InvalidDataException>(() => ScoringBodies.InferenceRows(Encoding.UTF8.GetBytes("""{"predictions": [1]}""")));
    }

    [Fact]
    public void CheckInferenceRequest_RefusesWhatIsNotAV2Request()
    {
        ScoringBodies.CheckInferenceRequest("""{"inputs": []}"""u8);
        Assert.Throws<ArgumentException>(() => ScoringBodies.CheckInferenceRequest("""{"dataframe_split": {}}"""u8));
        Assert.Throws<ArgumentException>(() => ScoringBodies.CheckInferenceRequest("not json"u8));
    }

    [Fact]
    public async Task TheClient_PostsToV2InferUnderTheBase_AndReadsMetadata()
    {
        var seen = new List<string>();
        using var handler = new Answer(r =>
        {
            seen.Add($"{r.Method} {r.RequestUri!.AbsoluteUri}");
            return r.Method == HttpMethod.Get
                ? """{"name": "churn model", "inputs": [{"name": "x", "datatype": "FP32", "shape": [-1]}]}"""
                : """{"outputs": []}""";
        });
        using var client = new OpenInferenceClient(TimeSpan.FromSeconds(5), handler);
        var types = await client.InputTypesAsync(new Uri("http://churn.models.example.com/base"), "churn model", default);
        Assert.Equal("FP32", types!["x"]);
        var r = await client.InferAsync(new Uri("http://churn.models.example.com/base"), "churn model",
            new PredictionRequest("""{"inputs": []}"""u8.ToArray(), "application/json"), default);
        Assert.Equal(200, r.StatusCode);
        Assert.Equal(
            ["GET http://churn.models.example.com/base/v2/models/churn%20model", "POST http://churn.models.example.com/base/v2/models/churn%20model/infer"],
            seen);
    }

    private sealed class Answer(Func<HttpRequestMessage, string> answer) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK)
            {
                Content = new StringContent(answer(request), Encoding.UTF8, "application/json"),
            });
    }
}
