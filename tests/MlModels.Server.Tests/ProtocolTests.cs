using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using MlModels.Core.Serving;
using MlModels.Core.Tests;

namespace MlModels.Server.Tests;

public class ProtocolTests
{
    private static async Task<JsonElement> Json(HttpResponseMessage r) => JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement;

    [Fact]
    public async Task PingHealthVersionAndMetrics_Answer()
    {
        await using var s = await RunningServer.StartAsync(RunningServer.LinearModel());
        Assert.Equal(HttpStatusCode.OK, (await s.Http.GetAsync("/ping")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await s.Http.GetAsync("/health")).StatusCode);
        Assert.Matches(@"^\d+\.\d+\.\d+$", await s.Http.GetStringAsync("/version"));
        await s.PostAsync("{\"inputs\": [[1, 2, 3]]}");
        var metrics = await s.Http.GetStringAsync("/metrics");
        Assert.Contains("mlmodels_requests_total{code=\"200\"} 1", metrics);
        Assert.Contains("mlmodels_request_duration_seconds_count 1", metrics);
    }

    [Theory]
    [InlineData("{\"dataframe_split\": {\"columns\": [\"x1\", \"x2\", \"x3\"], \"data\": [[1, 2, 3], [0, 0, 0]]}}", "application/json")]
    [InlineData("{\"dataframe_records\": [{\"x1\": 1, \"x2\": 2, \"x3\": 3}, {\"x3\": 0, \"x2\": 0, \"x1\": 0}]}", "application/json; charset=utf-8")]
    [InlineData("{\"instances\": [{\"x1\": 1, \"x2\": 2, \"x3\": 3}, {\"x1\": 0, \"x2\": 0, \"x3\": 0}], \"params\": {\"k\": 3}}", "application/json")]
    [InlineData("x1,x2,x3\n1,2,3\n0,0,0\n", "text/csv")]
    [InlineData("x3,x1,x2,extra\n3,1,2,z\n0,0,0,z\n", "text/csv; charset=UTF-8")]
    public async Task TabularForms_Score(string body, string contentType)
    {
        await using var s = await RunningServer.StartAsync(RunningServer.LinearModel());
        var r = await s.PostAsync(body, contentType);
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        var p = (await Json(r)).GetProperty("predictions");
        Assert.Equal(4.75, p[0].GetProperty("variable").GetDouble());
        Assert.Equal(0.25, p[1].GetProperty("variable").GetDouble());
    }

    [Theory]
    [InlineData("{\"inputs\": [[1, 2, 3]]}")]
    [InlineData("{\"inputs\": {\"input\": [[1, 2, 3]]}}")]
    [InlineData("{\"instances\": [[1, 2, 3]]}")]
    public async Task TensorForms_Score(string body)
    {
        await using var s = await RunningServer.StartAsync(RunningServer.LinearModel());
        var r = await s.PostAsync(body);
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal(4.75, (await Json(r)).GetProperty("predictions").GetProperty("variable")[0][0].GetDouble());
    }

    public static TheoryData<string, string?, int> Malformed()
    {
        var d = new TheoryData<string, string?, int>();
        const string J = "application/json";
        foreach (var bad in new[] { "", "{", "[1,2", "nul", "{\"inputs\": }", "{'inputs': 1}", "\u0001", "{\"inputs\": [1,2,]}", "123", "\"str\"", "[]", "null", "true", "{\"inputs\": [[1,2,3]]} trailing" })
            d.Add(bad, J, 400);
        d.Add("{}", J, 400);
        d.Add("{\"data\": [[1,2,3]]}", J, 400);
        string[] keys = ["dataframe_split", "dataframe_records", "instances", "inputs"];
        for (int i = 0; i < keys.Length; i++)
            for (int k = i + 1; k < keys.Length; k++)
                d.Add($"{{\"{keys[i]}\": [], \"{keys[k]}\": []}}", J, 400);
        d.Add("{\"dataframe_split\": [], \"dataframe_records\": [], \"instances\": [], \"inputs\": []}", J, 400);
        foreach (var bad in new[]
        {
            "{\"dataframe_split\": [[1,2,3]]}",
            "{\"dataframe_split\": {\"columns\": [\"x1\", \"x2\", \"x3\"]}}",
            "{\"dataframe_split\": {\"columns\": [\"x1\", \"x2\", \"x3\"], \"data\": 5}}",
            "{\"dataframe_split\": {\"columns\": [\"x1\", \"x2\", \"x3\"], \"data\": [1, 2, 3]}}",
            "{\"dataframe_split\": {\"columns\": [\"x1\", \"x2\", \"x3\"], \"data\": [[1, 2]]}}",
            "{\"dataframe_split\": {\"columns\": [\"x1\", \"x2\"], \"data\": [[1, 2]]}}",
            "{\"dataframe_split\": {\"columns\": [\"x1\", \"x2\", \"x3\"], \"data\": [[\"a\", 2, 3]]}}",
            "{\"dataframe_split\": {\"columns\": [\"x1\", \"x2\", \"x3\"], \"data\": [[true, 2, 3]]}}",
            "{\"dataframe_split\": {\"columns\": [\"x1\", \"x2\", \"x3\"], \"data\": [[[1], 2, 3]]}}",
            "{\"dataframe_split\": {\"columns\": [\"x1\", \"x2\", \"x3\"], \"data\": []}}",
            "{\"dataframe_records\": {\"x1\": 1}}",
            "{\"dataframe_records\": [1, 2, 3]}",
            "{\"dataframe_records\": [{\"x1\": 1, \"x2\": 2}]}",
            "{\"dataframe_records\": [{\"x1\": {\"a\": 1}, \"x2\": 2, \"x3\": 3}]}",
            "{\"dataframe_records\": []}",
            "{\"inputs\": [[1, 2]]}",
            "{\"inputs\": [[1, 2, 3], [1, 2]]}",
            "{\"inputs\": [[[1, 2, 3]]]}",
            "{\"inputs\": [[\"a\", \"b\", \"c\"]]}",
            "{\"inputs\": {\"nope\": [[1, 2, 3]]}}",
            "{\"inputs\": 5}",
            "{\"inputs\": [[1, 2, 3]], \"params\": 5}",
            "{\"inputs\": [[1, 2, 3]], \"params\": {\"k\": \"text\"}}",
            "{\"inputs\": [[1, 2, 3]], \"params\": {\"k\": 1.5}}",
            "{\"instances\": [[1, 2, 3], [4, 5]]}",
        }) d.Add(bad, J, 400);
        d.Add("x1,x2,x3\n1,2,3\n", "text/plain", 415);
        d.Add("<x/>", "application/xml", 415);
        d.Add("{\"inputs\": [[1,2,3]]}", null, 415);
        d.Add("{\"inputs\": [[1,2,3]]}", "application/json; charset=latin-1", 415);
        d.Add("x1,x2,x3\n1,2,3\n", "text/csv; charset=utf-16", 415);
        d.Add("--b\r\n\r\n--b--", "multipart/form-data; boundary=b", 415);
        d.Add("", "text/csv", 400);
        d.Add("x1,x2,x3\n", "text/csv", 400);
        d.Add("x1,x2,x3\n1,abc,3\n", "text/csv", 400);
        d.Add("x1,x2,x3\n1,2,3\n1,2\n", "text/csv", 400);
        d.Add("x1,x2\n1,2\n", "text/csv", 400);
        return d;
    }

    [Theory]
    [MemberData(nameof(Malformed))]
    public async Task MalformedRequests_GetTheRightStatusAndAnErrorBody(string body, string? contentType, int status)
    {
        await using var s = await RunningServer.StartAsync(RunningServer.LinearModel());
        var r = await s.PostAsync(body, contentType);
        Assert.Equal(status, (int)r.StatusCode);
        var error = await Json(r);
        Assert.Equal("BAD_REQUEST", error.GetProperty("error_code").GetString());
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("message").GetString()));
        Assert.Equal(HttpStatusCode.OK, (await s.Http.GetAsync("/ping")).StatusCode);
    }

    [Fact]
    public void MalformedCases_AreMoreThanFifty() => Assert.True(Malformed().Count() >= 50);

    [Fact]
    public async Task HugeBody_Is413()
    {
        await using var s = await RunningServer.StartAsync(RunningServer.LinearModel(), new ServingOptions { MaxBodyBytes = 64 * 1024 });
        var big = "{\"inputs\": [" + string.Join(",", Enumerable.Repeat("[1,2,3]", 20_000)) + "]}";
        var r = await s.PostAsync(big);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, r.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await s.Http.GetAsync("/ping")).StatusCode);
    }

    [Fact]
    public async Task UnknownPathsAndMethods_AreRejected()
    {
        await using var s = await RunningServer.StartAsync(RunningServer.LinearModel());
        Assert.Equal(HttpStatusCode.NotFound, (await s.Http.GetAsync("/nope")).StatusCode);
        Assert.NotEqual(HttpStatusCode.OK, (await s.Http.GetAsync("/invocations")).StatusCode);
    }

    [Fact]
    public async Task SlowAndAbandonedClients_DoNotHurtOthers()
    {
        await using var s = await RunningServer.StartAsync(RunningServer.LinearModel());
        var clients = new List<TcpClient>();
        for (int i = 0; i < 20; i++)
        {
            var c = new TcpClient();
            await c.ConnectAsync(s.BaseAddress.Host, s.BaseAddress.Port);
            var head = Encoding.ASCII.GetBytes($"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{\"inputs\"");
            await c.GetStream().WriteAsync(head);
            clients.Add(c);
        }
        var r = await s.PostAsync("{\"inputs\": [[1, 2, 3]]}");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        foreach (var c in clients) c.Dispose();
        Assert.Equal(HttpStatusCode.OK, (await s.Http.GetAsync("/ping")).StatusCode);
    }

    [Fact]
    public async Task ApiKey_IsRequiredWhenSet()
    {
        await using var s = await RunningServer.StartAsync(RunningServer.LinearModel(), new ServingOptions { ApiKey = "k1" });
        Assert.Equal(HttpStatusCode.Unauthorized, (await s.PostAsync("{\"inputs\": [[1, 2, 3]]}")).StatusCode);
        s.Http.DefaultRequestHeaders.Add("X-API-Key", "k1");
        Assert.Equal(HttpStatusCode.OK, (await s.PostAsync("{\"inputs\": [[1, 2, 3]]}")).StatusCode);
    }

    [Fact]
    public async Task LoadTest_30Seconds_64Connections_NoErrors_FlatMemory()
    {
        await using var s = await RunningServer.StartAsync(RunningServer.LinearModel());
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 64 };
        using var http = new HttpClient(handler) { BaseAddress = s.BaseAddress };
        long ok = 0, failed = 0;
        async Task Run(TimeSpan d)
        {
            var end = DateTime.UtcNow + d;
            await Task.WhenAll(Enumerable.Range(0, 64).Select(async _ =>
            {
                while (DateTime.UtcNow < end)
                {
                    using var content = new StringContent("{\"dataframe_split\": {\"columns\": [\"x1\", \"x2\", \"x3\"], \"data\": [[1, 2, 3]]}}", Encoding.UTF8, "application/json");
                    using var r = await http.PostAsync("/invocations", content);
                    if (r.IsSuccessStatusCode) Interlocked.Increment(ref ok); else Interlocked.Increment(ref failed);
                }
            }));
        }
        await Run(TimeSpan.FromSeconds(3));
        GC.Collect();
        var before = Environment.WorkingSet;
        await Run(TimeSpan.FromSeconds(30));
        GC.Collect();
        var after = Environment.WorkingSet;
        Assert.Equal(0, failed);
        Assert.True(ok > 1000, $"only {ok} requests");
        Assert.True(after < before + 200L * 1024 * 1024, $"working set grew from {before / 1e6:N0} MB to {after / 1e6:N0} MB");
    }
}
