using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using MlModels.Core.Serving;
using MlModels.Core.Tests;
using MlModels.Deploy.Endpoints;

namespace MlModels.Deploy.Tests.Endpoints;

/// <summary>
/// The request writers and response readers every endpoint cmdlet shares, over MLflow 2.12.2's recorded requests and
/// answers (tests/conformance/scoring): what the client writes for Azure ML is what the server's Azure ML contract
/// reads back, and answers read as plain values write back to the same JSON.
/// </summary>
[Trait("Category", "Fast")]
public class ScoringBodiesTests
{
    private static string Corpus => TestPaths.ScoringConformance;

    /// <summary>The corpus's JSON requests in MLflow's forms that MLflow answered with predictions (200).</summary>
    public static TheoryData<string> JsonRequests()
    {
        var data = new TheoryData<string>();
        foreach (var c in JsonNode.Parse(File.ReadAllText(Path.Combine(Corpus, "cases.json")))!.AsArray())
        {
            var bodyFile = (string?)c!["body_file"];
            var response = Path.Combine(Corpus, "responses", (string)c["case"]! + ".json");
            if (bodyFile == null || !bodyFile.EndsWith(".json", StringComparison.Ordinal) || !File.Exists(response)) continue;
            if ((int)JsonNode.Parse(File.ReadAllBytes(response))!["status"]! != 200) continue;
            JsonNode? node;
            try { node = JsonNode.Parse(File.ReadAllBytes(Path.Combine(Corpus, bodyFile))); }
            catch (JsonException) { continue; }
            if (node is JsonObject o && (o["dataframe_split"] is JsonObject || o["dataframe_records"] is JsonArray || o["inputs"] != null || o["instances"] != null))
                data.Add(Path.GetFileName(bodyFile));
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(JsonRequests))]
    public void AzureMLInputData_IsReadBackByTheServersAzureMLContract_AsTheSameRequest(string file)
    {
        var mlflow = JsonNode.Parse(File.ReadAllBytes(Path.Combine(Corpus, "requests", file)))!.AsObject();
        var azure = ScoringBodies.AzureMLInputData(Encoding.UTF8.GetBytes(mlflow.ToJsonString()));
        var (back, error) = AzureMLContract.TranslateRequest(azure);
        Assert.Null(error);
        var again = JsonNode.Parse(back!)!.AsObject();
        Assert.True(JsonNode.DeepEquals(mlflow["params"], again["params"]), "params changed");
        if (mlflow["dataframe_split"] is JsonObject split)
            Assert.True(JsonNode.DeepEquals(split, again["dataframe_split"]), again.ToJsonString());
        else if (mlflow["dataframe_records"] is JsonArray records)
        {
            var table = again["dataframe_split"]!.AsObject();
            var columns = table["columns"]!.AsArray().Select(c => (string)c!).ToList();
            var rows = table["data"]!.AsArray();
            Assert.Equal(records.Count, rows.Count);
            for (int i = 0; i < records.Count; i++)
                foreach (var (k, v) in records[i]!.AsObject())
                    Assert.True(JsonNode.DeepEquals(v, rows[i]![columns.IndexOf(k)]), $"row {i}, column {k}");
        }
        else Assert.True(JsonNode.DeepEquals(mlflow["inputs"] ?? mlflow["instances"], again["inputs"]), again.ToJsonString());
    }

    public static TheoryData<string> RecordedAnswers()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(Path.Combine(Corpus, "responses"), "*.json").Order(StringComparer.Ordinal))
            if (JsonNode.Parse(File.ReadAllBytes(file)) is JsonObject { } r && (int)r["status"]! == 200 && r["body"] is JsonObject b && b["predictions"] != null)
                data.Add(Path.GetFileName(file));
        return data;
    }

    [Theory]
    [MemberData(nameof(RecordedAnswers))]
    public void Predictions_OfARecordedAnswer_WriteBackToTheSameJson(string file)
    {
        var recorded = JsonNode.Parse(File.ReadAllBytes(Path.Combine(Corpus, "responses", file)))!["body"]!;
        var predictions = recorded["predictions"]!;
        var items = ScoringBodies.Predictions(Encoding.UTF8.GetBytes(recorded.ToJsonString()));
        var expected = predictions is JsonArray a ? a : new JsonArray(predictions.DeepClone());
        Assert.Equal(expected.Count, items.Count);
        var rewritten = JsonNode.Parse(ScoringBodies.ToJson(items))!;
        Assert.True(JsonNode.DeepEquals(expected, rewritten), rewritten.ToJsonString());
    }

    [Fact]
    public void DataframeSplit_TakesColumnsInFirstSeenOrder_MissingValuesNull_WithIndexAndParams()
    {
        IReadOnlyList<KeyValuePair<string, object?>> Row(params (string, object?)[] kv) => kv.Select(p => KeyValuePair.Create(p.Item1, p.Item2)).ToList();
        var rows = new[] { Row(("a", 1), ("b", "x")), Row(("b", "y"), ("c", new DateTime(2024, 1, 2, 3, 4, 5, DateTimeKind.Utc))) };
        var body = Encoding.UTF8.GetString(ScoringBodies.DataframeSplit(rows, new Dictionary<string, object?> { ["k"] = 1.5 }, withIndex: true));
        Assert.Equal("""{"dataframe_split":{"columns":["a","b","c"],"index":[0,1],"data":[[1,"x",null],[null,"y","2024-01-02T03:04:05.0000000Z"]]},"params":{"k":1.5}}""", body);
        Assert.Equal("""{"dataframe_split":{"columns":["a"],"data":[[1]]}}""", Encoding.UTF8.GetString(ScoringBodies.DataframeSplit([Row(("a", 1L))])));
    }

    [Theory]
    [InlineData("{\"dataframe_split\": {\"columns\": [\"a\"], \"data\": [[1]]}, \"params\": {\"k\": 1}}", "{\"input_data\":{\"columns\":[\"a\"],\"data\":[[1]]},\"params\":{\"k\":1}}")]
    [InlineData("{\"dataframe_records\": [{\"a\": 1, \"b\": \"x\"}, {\"b\": \"y\"}]}", "{\"input_data\":{\"columns\":[\"a\",\"b\"],\"index\":[0,1],\"data\":[[1,\"x\"],[null,\"y\"]]}}")]
    [InlineData("{\"instances\": [[1, 2]]}", "{\"input_data\":[[1,2]]}")]
    [InlineData("{\"inputs\": {\"x\": [1, 2]}}", "{\"input_data\":{\"x\":[1,2]}}")]
    [InlineData("{\"input_data\": [[3]]}", "{\"input_data\":[[3]]}")]
    public void MlflowRequests_MapOntoInputData(string mlflow, string azure) =>
        Assert.Equal(azure, Encoding.UTF8.GetString(ScoringBodies.AzureMLInputData(Encoding.UTF8.GetBytes(mlflow))));

    [Theory]
    [InlineData("[1, 2]", "in one of MLflow's forms")]
    [InlineData("{\"rows\": []}", "none of MLflow's keys")]
    [InlineData("{\"dataframe_split\": ", "not JSON")]
    public void AzureMLInputData_RefusesWhatIsNoMlflowRequest_SayingWhy(string body, string why)
    {
        var ex = Assert.Throws<ArgumentException>(() => ScoringBodies.AzureMLInputData(Encoding.UTF8.GetBytes(body)));
        Assert.Contains(why, ex.Message);
    }
}

[Trait("Category", "Fast")]
public class InvocationsClientTests
{
    private sealed class Recorder(Func<HttpRequestMessage, CancellationToken, Task<HttpResponseMessage>> answer) : HttpMessageHandler
    {
        public List<(Uri Uri, string ContentType, string Body)> Seen { get; } = [];

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Seen.Add((request.RequestUri!, request.Content!.Headers.ContentType!.ToString(), await request.Content.ReadAsStringAsync(cancellationToken)));
            return await answer(request, cancellationToken);
        }
    }

    [Theory]
    [InlineData("http://127.0.0.1:8080/", "http://127.0.0.1:8080/invocations")]
    [InlineData("http://127.0.0.1:8080/invocations", "http://127.0.0.1:8080/invocations")]
    public async Task PostAsync_SendsTheBodyToInvocations_AndReturnsAnyStatusAsItCame(string server, string expected)
    {
        var handler = new Recorder((_, _) => Task.FromResult(new HttpResponseMessage(HttpStatusCode.BadRequest)
        {
            Content = new StringContent("{\"error_code\": \"BAD_REQUEST\"}", Encoding.UTF8, "application/json"),
        }));
        using var client = new InvocationsClient(TimeSpan.FromSeconds(5), handler);
        var answer = await client.PostAsync(new Uri(server), new PredictionRequest("a\n1\n"u8.ToArray(), "text/csv"), default);
        Assert.Equal((new Uri(expected), "text/csv", "a\n1\n"), Assert.Single(handler.Seen));
        Assert.Equal(400, answer.StatusCode);
        Assert.Contains("BAD_REQUEST", Encoding.UTF8.GetString(answer.Body.Span));
    }

    [Fact]
    public async Task PostAsync_ThatGetsNoAnswerInTime_IsATimeoutNamingTheAddress()
    {
        var handler = new Recorder(async (_, ct) =>
        {
            await Task.Delay(Timeout.Infinite, ct);
            return new HttpResponseMessage(HttpStatusCode.OK);
        });
        using var client = new InvocationsClient(TimeSpan.FromMilliseconds(200), handler);
        var ex = await Assert.ThrowsAsync<TimeoutException>(() => client.PostAsync(new Uri("http://127.0.0.1:9/"), new PredictionRequest("{}"u8.ToArray(), "application/json"), default));
        Assert.Contains("http://127.0.0.1:9/invocations", ex.Message);
    }
}
