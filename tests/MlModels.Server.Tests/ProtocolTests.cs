using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using MlModels.Core;
using MlModels.Core.Serving;
using MlModels.Core.Tests;

namespace MlModels.Server.Tests;

[Trait("Category", "Fast")]
public class ProtocolTests
{
    private static async Task<JsonElement> Json(HttpResponseMessage r) => JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement;

    private const string OneRow = "{\"dataframe_split\": {\"columns\": [\"x1\", \"x2\", \"x3\"], \"data\": [[1, 2, 3]]}}";

    [Fact]
    public async Task PingHealthVersionAndMetrics_Answer()
    {
        await using var s = await RunningServer.StartAsync(RunningServer.LinearModel());
        Assert.Equal(HttpStatusCode.OK, (await s.Http.GetAsync("/ping")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await s.Http.GetAsync("/health")).StatusCode);
        Assert.Equal(ModuleVersion.Full, await s.Http.GetStringAsync("/version"));
        Assert.Matches(@"^\d+\.\d+\.\d+(-[0-9A-Za-z]+)?$", ModuleVersion.Full);
        await s.PostAsync(OneRow);
        await s.PostAsync("{\"inputs\": [[1, 2, 3]]}");
        var metrics = await s.Http.GetStringAsync("/metrics");
        Assert.Contains("mlmodels_requests_total{code=\"200\"} 1", metrics);
        Assert.Contains("mlmodels_requests_total{code=\"400\"} 1", metrics);
        Assert.Contains("mlmodels_request_duration_seconds_count 2", metrics);
    }

    [Theory]
    [InlineData("{\"dataframe_split\": {\"columns\": [\"x1\", \"x2\", \"x3\"], \"data\": [[1, 2, 3], [0, 0, 0]]}}", "application/json")]
    [InlineData("{\"dataframe_split\": {\"columns\": [\"x1\", \"x2\", \"x3\"], \"data\": [[true, 2, 3], [\"0\", 0, 0]]}}", "application/json")]
    [InlineData("{\"dataframe_records\": [{\"x1\": 1, \"x2\": 2, \"x3\": 3}, {\"x3\": 0, \"x2\": 0, \"x1\": 0}]}", "application/json; charset=utf-8")]
    [InlineData("{\"instances\": [{\"x1\": 1, \"x2\": 2, \"x3\": 3}, {\"x1\": 0, \"x2\": 0, \"x3\": 0}], \"params\": {\"k\": 3}}", "application/json")]
    [InlineData("{\"inputs\": {\"x1\": [1, 0], \"x2\": [2, 0], \"x3\": [3, 0]}}", "application/json")]
    [InlineData("x1,x2,x3\n1,2,3\n0,0,0\n", "text/csv")]
    [InlineData("x3,x1,x2,extra\n3,1,2,z\n0,0,0,z\n", "text/csv; charset=UTF-8")]
    public async Task TabularForms_ScoreAsRecords(string body, string contentType)
    {
        await using var s = await RunningServer.StartAsync(RunningServer.LinearModel());
        var r = await s.PostAsync(body, contentType);
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal("application/json", r.Content.Headers.ContentType!.ToString());
        Assert.Equal("{\"predictions\": [{\"variable\": 4.75}, {\"variable\": 0.25}]}", await r.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("{\"inputs\": [[1, 2, 3]]}")]
    [InlineData("{\"inputs\": {\"input\": [[1, 2, 3]]}}")]
    [InlineData("{\"instances\": [[1, 2, 3]]}")]
    public async Task TensorForms_ScoreAsNamedOutputs(string body)
    {
        await using var s = await RunningServer.StartAsync(RunningServer.TensorModel());
        var r = await s.PostAsync(body);
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal("{\"predictions\": {\"variable\": [[4.75]]}}", await r.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task SlowOnnxModel_Gets504AtTheTimeout_ItsRunStopped_AndTheServerCarriesOn()
    {
        var model = MlModels.Core.Scoring.Onnx.OnnxPackager.Save(Path.Combine(TestPaths.RepoRoot, "tests/fixtures/onnx/slow.onnx"), Path.Combine(TestPaths.NewTempDir(), "slow"));
        await using var s = await RunningServer.StartAsync(model, new ServingOptions { Timeout = TimeSpan.FromMilliseconds(300) });
        // A small body is scored on the request's own thread: the 504 can only come once ONNX Runtime has stopped the run.
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var r = await s.PostAsync(OneRow);
        Assert.Equal(HttpStatusCode.GatewayTimeout, r.StatusCode);
        Assert.Equal("TIMEOUT", (await Json(r)).GetProperty("error_code").GetString());
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"answered after {watch.Elapsed}");
        // The stopped run's options are reused: the next requests run (and stop) as before, not stopped at once.
        var again = System.Diagnostics.Stopwatch.StartNew();
        Assert.Equal(HttpStatusCode.GatewayTimeout, (await s.PostAsync(OneRow)).StatusCode);
        Assert.True(again.Elapsed >= TimeSpan.FromMilliseconds(250), $"stopped after {again.Elapsed}");
        var metrics = await s.Http.GetStringAsync("/metrics");
        Assert.Contains("mlmodels_requests_total{code=\"504\"} 2", metrics);
    }

    [Theory]
    [InlineData("{\"dataframe_split\": {\"columns\": [\"x1\", \"x2\", \"x3\"], \"data\": []}}", "application/json")]
    [InlineData("x1,x2,x3\n", "text/csv")]
    public async Task NoRows_ScoreToAnEmptyList(string body, string contentType)
    {
        await using var s = await RunningServer.StartAsync(RunningServer.LinearModel());
        var r = await s.PostAsync(body, contentType);
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal("{\"predictions\": []}", await r.Content.ReadAsStringAsync());
    }

    private const string BadRequest = "BAD_REQUEST";
    private const string Invalid = "INVALID_PARAMETER_VALUE";

    /// <summary>Requests MLflow refuses, with its status and error code (null: a plain-text answer).</summary>
    public static TheoryData<string, string?, int, string?> Malformed()
    {
        var d = new TheoryData<string, string?, int, string?>();
        const string J = "application/json";
        // Not JSON, or JSON that is not an object: BAD_REQUEST.
        foreach (var bad in new[] { "", "{", "[1,2", "nul", "{\"inputs\": }", "{'inputs': 1}", "\u0001", "{\"inputs\": [1,2,]}", "123", "\"str\"", "[]", "null", "true", "{\"inputs\": [[1,2,3]]} trailing" })
            d.Add(bad, J, 400, BadRequest);
        // None, or more than one, of the input fields.
        d.Add("{}", J, 400, BadRequest);
        d.Add("{\"data\": [[1,2,3]]}", J, 400, BadRequest);
        string[] keys = ["dataframe_split", "dataframe_records", "instances", "inputs"];
        for (int i = 0; i < keys.Length; i++)
            for (int k = i + 1; k < keys.Length; k++)
                d.Add($"{{\"{keys[i]}\": [], \"{keys[k]}\": []}}", J, 400, BadRequest);
        d.Add("{\"dataframe_split\": [], \"dataframe_records\": [], \"instances\": [], \"inputs\": []}", J, 400, BadRequest);
        // Badly shaped tables, and values that do not convert: BAD_REQUEST while reading.
        foreach (var bad in new[]
        {
            "{\"dataframe_split\": [[1,2,3]]}",
            "{\"dataframe_split\": {\"columns\": [\"x1\", \"x2\", \"x3\"]}}",
            "{\"dataframe_split\": {\"columns\": [\"x1\", \"x2\", \"x3\"], \"data\": 5}}",
            "{\"dataframe_split\": {\"columns\": [\"x1\", \"x2\", \"x3\"], \"data\": [1, 2, 3]}}",
            "{\"dataframe_split\": {\"columns\": [\"x1\", \"x2\", \"x3\"], \"data\": [[1, 2]]}}",
            "{\"dataframe_split\": {\"columns\": [\"x1\", \"x2\", \"x3\"], \"data\": [[\"a\", 2, 3]]}}",
            "{\"dataframe_split\": {\"columns\": [\"x1\", \"x2\", \"x3\"], \"data\": [[[1], 2, 3]]}}",
            "{\"dataframe_split\": {\"columns\": [\"x1\", \"x2\", \"x3\"], \"data\": [[1, 2, 3]], \"extra\": 1}}",
            "{\"dataframe_records\": {\"x1\": 1}}",
            "{\"dataframe_records\": [{\"x1\": {\"a\": 1}, \"x2\": 2, \"x3\": 3}]}",
            "{\"inputs\": [[1, 2, 3], [1, 2]]}",
            "{\"inputs\": [[\"a\", \"b\", \"c\"]]}",
            "{\"instances\": [[1, 2, 3], [4, 5]]}",
            "{\"instances\": {\"x1\": [1, 2], \"x2\": [1], \"x3\": [1, 2]}}",
        }) d.Add(bad, J, 400, BadRequest);
        // Read, but not what the column signature takes (missing columns, arrays, params): INVALID_PARAMETER_VALUE.
        foreach (var bad in new[]
        {
            "{\"dataframe_split\": {\"columns\": [\"x1\", \"x2\"], \"data\": [[1, 2]]}}",
            "{\"dataframe_split\": {\"data\": [[1, 2, 3]]}}",
            "{\"dataframe_records\": [1, 2, 3]}",
            "{\"dataframe_records\": [{\"x1\": 1, \"x2\": 2}]}",
            "{\"dataframe_records\": []}",
            "{\"inputs\": [[1, 2, 3]]}",
            "{\"inputs\": [[1, 2]]}",
            "{\"inputs\": [[[1, 2, 3]]]}",
            "{\"inputs\": {\"nope\": [[1, 2, 3]]}}",
            "{\"inputs\": {\"x1\": [1, 2], \"x2\": [1], \"x3\": [1, 2]}}",
            "{\"inputs\": 5}",
            "{\"input\": \"hello\"}",
            OneRow[..^1] + ", \"params\": 5}",
            OneRow[..^1] + ", \"params\": [1]}",
            OneRow[..^1] + ", \"params\": {\"k\": \"text\"}}",
            OneRow[..^1] + ", \"params\": {\"k\": 1.5}}",
        }) d.Add(bad, J, 400, Invalid);
        // Content types MLflow does not take: 415 in plain text; no Content-Type at all: MLflow's own 500.
        d.Add("x1,x2,x3\n1,2,3\n", "text/plain", 415, null);
        d.Add("<x/>", "application/xml", 415, null);
        d.Add("{\"inputs\": [[1,2,3]]}", "application/json; charset=latin-1", 415, null);
        d.Add("x1,x2,x3\n1,2,3\n", "text/csv; charset=utf-16", 415, null);
        d.Add(OneRow, "application/json; format=pandas-split", 415, null);
        d.Add("--b\r\n\r\n--b--", "multipart/form-data; boundary=b", 415, null);
        d.Add(OneRow, null, 500, null);
        // CSV: unreadable is BAD_REQUEST, a missing column INVALID_PARAMETER_VALUE.
        d.Add("", "text/csv", 400, BadRequest);
        d.Add("x1,x2,x3\n1,abc,3\n", "text/csv", 400, BadRequest);
        d.Add("x1,x2,x3\n1,2,3\n1,2,3,4\n", "text/csv", 400, BadRequest);
        d.Add("x1,x2\n1,2\n", "text/csv", 400, Invalid);
        return d;
    }

    [Theory]
    [MemberData(nameof(Malformed))]
    public async Task MalformedRequests_GetMlflowsStatusAndErrorCode(string body, string? contentType, int status, string? errorCode)
    {
        await using var s = await RunningServer.StartAsync(RunningServer.LinearModel());
        var r = await s.PostAsync(body, contentType);
        var text = await r.Content.ReadAsStringAsync();
        Assert.True(status == (int)r.StatusCode, $"{(int)r.StatusCode}: {text}");
        if (errorCode == null)
        {
            Assert.StartsWith("text/plain", r.Content.Headers.ContentType!.ToString());
            Assert.False(string.IsNullOrWhiteSpace(text));
        }
        else
        {
            var error = JsonDocument.Parse(text).RootElement;
            Assert.Equal(errorCode, error.GetProperty("error_code").GetString());
            Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("message").GetString()));
        }
        Assert.Equal(HttpStatusCode.OK, (await s.Http.GetAsync("/ping")).StatusCode);
    }

    [Fact]
    public async Task HugeBody_Is413()
    {
        await using var s = await RunningServer.StartAsync(RunningServer.LinearModel(), new ServingOptions { MaxBodyBytes = 64 * 1024 });
        var big = "{\"dataframe_split\": {\"columns\": [\"x1\", \"x2\", \"x3\"], \"data\": [" + string.Join(",", Enumerable.Repeat("[1,2,3]", 20_000)) + "]}}";
        var r = await s.PostAsync(big);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, r.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await s.Http.GetAsync("/ping")).StatusCode);
    }

    [Fact]
    public async Task UnknownPathsAndMethods_AreRejected()
    {
        await using var s = await RunningServer.StartAsync(RunningServer.LinearModel());
        Assert.Equal(HttpStatusCode.NotFound, (await s.Http.GetAsync("/nope")).StatusCode);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, (await s.Http.GetAsync("/invocations")).StatusCode);
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
        var r = await s.PostAsync(OneRow);
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        foreach (var c in clients) c.Dispose();
        Assert.Equal(HttpStatusCode.OK, (await s.Http.GetAsync("/ping")).StatusCode);
    }

    [Fact]
    public async Task ApiKey_IsRequiredWhenSet()
    {
        await using var s = await RunningServer.StartAsync(RunningServer.LinearModel(), new ServingOptions { ApiKey = "k1" });
        Assert.Equal(HttpStatusCode.Unauthorized, (await s.PostAsync(OneRow)).StatusCode);
        s.Http.DefaultRequestHeaders.Add("X-API-Key", "k1");
        Assert.Equal(HttpStatusCode.OK, (await s.PostAsync(OneRow)).StatusCode);
    }

    [Fact]
    public async Task Load_64Connections_NoErrors_FlatMemory()
    {
        // A fixed number of requests, not a time window: the result does not depend on how fast the machine is today.
        // Throughput belongs in bench/ (server-bench.sh).
        await using var s = await RunningServer.StartAsync(RunningServer.LinearModel());
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 64 };
        using var http = new HttpClient(handler) { BaseAddress = s.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        long ok = 0, failed = 0;
        async Task Run(int perConnection)
        {
            await Task.WhenAll(Enumerable.Range(0, 64).Select(async _ =>
            {
                for (int i = 0; i < perConnection; i++)
                {
                    using var content = new StringContent("{\"dataframe_split\": {\"columns\": [\"x1\", \"x2\", \"x3\"], \"data\": [[1, 2, 3]]}}", Encoding.UTF8, "application/json");
                    using var r = await http.PostAsync("/invocations", content);
                    if (r.IsSuccessStatusCode) Interlocked.Increment(ref ok); else Interlocked.Increment(ref failed);
                }
            }));
        }
        await Run(20);
        GC.Collect();
        var before = Environment.WorkingSet;
        await Run(150);
        GC.Collect();
        var after = Environment.WorkingSet;
        Assert.Equal(0, failed);
        Assert.Equal(64 * 170, ok);
        Assert.True(after < before + 200L * 1024 * 1024, $"working set grew from {before / 1e6:N0} MB to {after / 1e6:N0} MB");
    }
}
