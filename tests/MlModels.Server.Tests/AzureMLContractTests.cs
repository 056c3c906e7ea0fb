using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using MlModels.Core.Serving;

namespace MlModels.Server.Tests;

/// <summary>Azure ML's scoring contract (GET /, POST /score with input_data) served beside MLflow's by the same server.</summary>
[Trait("Category", "Fast")]
public class AzureMLContractTests
{
    private static Task<HttpResponseMessage> Score(RunningServer s, string body)
    {
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return s.Http.PostAsync("/score", content);
    }

    [Fact]
    public async Task Liveness_AnswersHealthy()
    {
        await using var s = await RunningServer.StartAsync(RunningServer.LinearModel());
        var r = await s.Http.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal("Healthy", await r.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("text/csv")]
    public async Task Score_RefusesOtherContentTypesWith415(string? contentType)
    {
        await using var s = await RunningServer.StartAsync(RunningServer.LinearModel());
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes("{\"input_data\": {\"columns\": [\"x1\", \"x2\", \"x3\"], \"data\": [[1, 2, 3]]}}"));
        content.Headers.ContentType = contentType == null ? null : new MediaTypeHeaderValue(contentType);
        var r = await s.Http.PostAsync("/score", content);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, r.StatusCode);
        Assert.Contains("application/json", JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement.GetProperty("message").GetString());
        Assert.Equal(HttpStatusCode.OK, (await Score(s, "{\"input_data\": {\"columns\": [\"x1\", \"x2\", \"x3\"], \"data\": [[1, 2, 3]]}}")).StatusCode);
    }

    [Theory]
    [InlineData("{\"input_data\": {\"columns\": [\"x1\", \"x2\", \"x3\"], \"index\": [0, 1], \"data\": [[1, 2, 3], [0, 0, 0]]}}",
        "{\"dataframe_split\": {\"columns\": [\"x1\", \"x2\", \"x3\"], \"index\": [0, 1], \"data\": [[1, 2, 3], [0, 0, 0]]}}")]
    [InlineData("{\"input_data\": {\"columns\": [\"x1\", \"x2\", \"x3\"], \"data\": [[1, 2, 3]]}, \"params\": {\"k\": 3}}",
        "{\"dataframe_split\": {\"columns\": [\"x1\", \"x2\", \"x3\"], \"data\": [[1, 2, 3]]}, \"params\": {\"k\": 3}}")]
    [InlineData("{\"input_data\": [{\"x1\": 1, \"x2\": 2, \"x3\": 3}, {\"x1\": 0, \"x2\": 0, \"x3\": 0}]}", "{\"inputs\": [{\"x1\": 1, \"x2\": 2, \"x3\": 3}, {\"x1\": 0, \"x2\": 0, \"x3\": 0}]}")]
    public async Task Score_GivesMlflowsPredictionsWithoutTheWrapper(string azure, string mlflow)
    {
        await using var s = await RunningServer.StartAsync(RunningServer.LinearModel());
        var viaAzure = await Score(s, azure);
        var viaMlflow = await s.PostAsync(mlflow);
        Assert.Equal(HttpStatusCode.OK, viaMlflow.StatusCode);
        Assert.Equal(HttpStatusCode.OK, viaAzure.StatusCode);
        Assert.Equal("application/json", viaAzure.Content.Headers.ContentType?.MediaType);
        var expected = JsonDocument.Parse(await viaMlflow.Content.ReadAsStringAsync()).RootElement.GetProperty("predictions").GetRawText();
        Assert.Equal(expected, await viaAzure.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("{\"dataframe_split\": {\"columns\": [\"x1\"], \"data\": [[1]]}}", "input_data")]
    [InlineData("{\"input_data\": {\"columns\": [\"x1\"], \"data\": [[1]], \"orient\": \"split\"}}", "orient")]
    [InlineData("{\"input_data\": 5}", "must be an object or a list")]
    [InlineData("{\"input_data\": [[1, 2, 3]], \"params\": [1]}", "\"params\" must be an object")]
    [InlineData("{\"input_data\": ", "not valid JSON")]
    public async Task Score_RefusesMalformedRequestsWith400(string body, string says)
    {
        await using var s = await RunningServer.StartAsync(RunningServer.LinearModel());
        var r = await Score(s, body);
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        var error = JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("BAD_REQUEST", error.GetProperty("error_code").GetString());
        Assert.Contains(says, error.GetProperty("message").GetString());
    }

    [Fact]
    public async Task Score_PassesOnMlflowsSchemaErrors()
    {
        await using var s = await RunningServer.StartAsync(RunningServer.LinearModel());
        var viaAzure = await Score(s, "{\"input_data\": {\"columns\": [\"x1\"], \"data\": [[1]]}}");
        var viaMlflow = await s.PostAsync("{\"dataframe_split\": {\"columns\": [\"x1\"], \"data\": [[1]]}}");
        Assert.Equal(viaMlflow.StatusCode, viaAzure.StatusCode);
        Assert.NotEqual(HttpStatusCode.OK, viaAzure.StatusCode);
        Assert.Equal(await viaMlflow.Content.ReadAsStringAsync(), await viaAzure.Content.ReadAsStringAsync());
    }

    [Fact]
    public void TranslateResponse_LeavesErrorsAndOtherShapesAlone()
    {
        var error = ServingResponse.Error(400, "BAD_REQUEST", "x");
        Assert.Same(error, AzureMLContract.TranslateResponse(error));
        var ok = new ServingResponse(200, "application/json", Encoding.UTF8.GetBytes("{\"predictions\": [1.0, 2.5]}"));
        Assert.Equal("[1.0, 2.5]", Encoding.UTF8.GetString(AzureMLContract.TranslateResponse(ok).Body));
    }
}
