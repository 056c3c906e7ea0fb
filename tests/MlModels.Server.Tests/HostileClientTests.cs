using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using MlModels.Core.Serving;

using MlModels.Core.Tests;

namespace MlModels.Server.Tests;

/// <summary>
/// The server under hostile clients, over raw sockets: each is answered (or cut off) within its timeout with the right
/// status and MLflow's error body, memory stays bounded, and the server answers normally afterwards.
/// </summary>
[Trait("Category", "Fast")]
public class HostileClientTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);

    /// <summary>Sends raw bytes and reads until the server closes or a full response is in; null when it closed without one.</summary>
    private static async Task<(int? Status, string Text)> Raw(RunningServer s, Func<NetworkStream, Task> send)
    {
        using var c = new TcpClient();
        await c.ConnectAsync(s.BaseAddress.Host, s.BaseAddress.Port);
        var stream = c.GetStream();
        using var cts = new CancellationTokenSource(Limit);
        try { await send(stream); }
        catch (IOException) { } // the server may close while we still send: that is an answer too
        var buffer = new MemoryStream();
        var chunk = new byte[8192];
        try
        {
            while (true)
            {
                int n = await stream.ReadAsync(chunk, cts.Token);
                if (n == 0) break;
                buffer.Write(chunk, 0, n);
                var text = Encoding.UTF8.GetString(buffer.ToArray());
                int head = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
                if (head > 0 && text.Contains("Content-Length: ", StringComparison.OrdinalIgnoreCase))
                {
                    var len = int.Parse(text[(text.IndexOf("Content-Length: ", StringComparison.OrdinalIgnoreCase) + 16)..].Split('\r')[0]);
                    if (buffer.Length >= head + 4 + len) break;
                }
            }
        }
        catch (IOException) { }
        var all = Encoding.UTF8.GetString(buffer.ToArray());
        int? status = all.StartsWith("HTTP/1.1 ", StringComparison.Ordinal) ? int.Parse(all.AsSpan(9, 3)) : null;
        return (status, all);
    }

    private static string Body(string response) => response[(response.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)..];

    private static void AssertMlflowError(string response, string code = "BAD_REQUEST")
    {
        using var doc = JsonDocument.Parse(Body(response));
        Assert.Equal(code, doc.RootElement.GetProperty("error_code").GetString());
    }

    private static async Task AssertHealthy(RunningServer s)
    {
        Assert.Equal(HttpStatusCode.OK, (await s.Http.GetAsync("/ping")).StatusCode);
        // The linear model has a column signature, so a table (not a bare array) is what it scores.
        var r = await s.PostAsync("{\"dataframe_split\": {\"columns\": [\"x1\", \"x2\", \"x3\"], \"data\": [[1, 2, 3]]}}");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
    }

    [Fact]
    public async Task SlowLorisBody_IsCutOffWithin_TheBodyRateGrace_AndOthersAreServed()
    {
        await using var s = await RunningServer.StartAsync(RunningServer.LinearModel());
        var clock = Stopwatch.StartNew();
        var slow = Raw(s, async st =>
        {
            await st.WriteAsync(Encoding.ASCII.GetBytes("POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{\"inputs\": ["));
            // One byte a second: far below Kestrel's minimum body rate (240 B/s after a 5 s grace).
            for (int i = 0; i < 25; i++) { await Task.Delay(1000); await st.WriteAsync("["u8.ToArray()); }
        });
        await AssertHealthy(s); // served while the slow client trickles
        var (status, text) = await slow;
        Assert.True(clock.Elapsed < Limit, $"took {clock.Elapsed}");
        // Kestrel answers 408 itself, or cuts the connection; never a 500 and never a wait for the whole body.
        Assert.True(status is null or 408 or 400, $"status {status}: {text}");
        await AssertHealthy(s);
    }

    [Fact]
    public async Task ChunkedBodyOverTheLimit_Is413WithMlflowsErrorBody()
    {
        await using var s = await RunningServer.StartAsync(RunningServer.LinearModel(), new ServingOptions { MaxBodyBytes = 256 * 1024 });
        var before = GC.GetTotalMemory(forceFullCollection: true);
        var (status, text) = await Raw(s, async st =>
        {
            await st.WriteAsync(Encoding.ASCII.GetBytes("POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"));
            var piece = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("[1, 2, 3], ", 1500)));
            var head = Encoding.ASCII.GetBytes($"{piece.Length:x}\r\n");
            // 64 MiB offered in chunks; the server must stop reading at its 256 KiB limit.
            for (int i = 0; i < 64 * 1024 * 1024 / piece.Length; i++)
            {
                await st.WriteAsync(head);
                await st.WriteAsync(piece);
                await st.WriteAsync("\r\n"u8.ToArray());
            }
        });
        Assert.Equal(413, status);
        AssertMlflowError(text);
        Assert.True(GC.GetTotalMemory(forceFullCollection: true) - before < 64L * 1024 * 1024, "memory grew with the refused body");
        await AssertHealthy(s);
    }

    [Theory]
    [InlineData("application/json", new byte[] { 0x7B, 0x22, 0x69, 0x6E, 0x70, 0x75, 0x74, 0x73, 0x22, 0x3A, 0x20, 0x5B, 0x5B, 0x31, 0x2C, 0x20, 0x32, 0x2C, 0x20, 0x33, 0x5D, 0x5D, 0x2C, 0x20, 0x22, 0xFF, 0xFE, 0x22, 0x3A, 0x20, 0x31, 0x7D })]
    [InlineData("text/csv", new byte[] { 0x78, 0x31, 0x2C, 0x78, 0x32, 0x2C, 0x78, 0x33, 0x0A, 0x31, 0x2C, 0x32, 0x2C, 0xC3, 0x28, 0x0A })]
    public async Task InvalidUtf8_Is400(string contentType, byte[] body)
    {
        await using var s = await RunningServer.StartAsync(RunningServer.LinearModel());
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse(contentType);
        var r = await s.Http.PostAsync("/invocations", content);
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        using var doc = JsonDocument.Parse(await r.Content.ReadAsStringAsync());
        Assert.Equal("BAD_REQUEST", doc.RootElement.GetProperty("error_code").GetString());
        Assert.Contains("UTF-8", doc.RootElement.GetProperty("message").GetString());
        await AssertHealthy(s);
    }

    [Theory]
    [InlineData(100_000)]
    [InlineData(1_000)]
    public async Task DeeplyNestedJson_Is400Quickly(int depth)
    {
        await using var s = await RunningServer.StartAsync(RunningServer.LinearModel());
        var clock = Stopwatch.StartNew();
        var r = await s.PostAsync("{\"inputs\": " + new string('[', depth) + new string(']', depth) + "}");
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        Assert.True(clock.Elapsed < Limit);
        await AssertHealthy(s);
    }

    // As MLflow: a number too large for float64 does not convert (BAD_REQUEST); as a long param it breaks the param schema.
    [Theory]
    [InlineData("{{\"inputs\": [[{0}, 2, 3]]}}", "BAD_REQUEST")]
    [InlineData("{{\"dataframe_split\": {{\"columns\": [\"x1\", \"x2\", \"x3\"], \"data\": [[{0}, 2, 3]]}}}}", "BAD_REQUEST")]
    [InlineData("{{\"dataframe_split\": {{\"columns\": [\"x1\", \"x2\", \"x3\"], \"data\": [[1, 2, 3]]}}, \"params\": {{\"k\": {0}}}}}", "INVALID_PARAMETER_VALUE")]
    public async Task HundredThousandDigitNumber_IsAnsweredWithoutAnInternalError(string template, string errorCode)
    {
        await using var s = await RunningServer.StartAsync(RunningServer.LinearModel());
        var number = "9" + new string('1', 99_999);
        var clock = Stopwatch.StartNew();
        var r = await s.PostAsync(string.Format(System.Globalization.CultureInfo.InvariantCulture, template, number));
        Assert.True(clock.Elapsed < Limit);
        Assert.True(r.StatusCode == HttpStatusCode.BadRequest, $"{r.StatusCode}: {await r.Content.ReadAsStringAsync()}");
        using (var doc = JsonDocument.Parse(await r.Content.ReadAsStringAsync()))
            Assert.Equal(errorCode, doc.RootElement.GetProperty("error_code").GetString());
        await AssertHealthy(s);
    }

    [Fact]
    public async Task ManyHeaders_Are431()
    {
        await using var s = await RunningServer.StartAsync(RunningServer.LinearModel());
        var (status, _) = await Raw(s, async st =>
        {
            var sb = new StringBuilder("POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 23\r\n");
            for (int i = 0; i < 5000; i++) sb.Append("X-Filler-").Append(i).Append(": ").Append('a', 20).Append("\r\n");
            sb.Append("\r\n{\"inputs\": [[1, 2, 3]]}");
            await st.WriteAsync(Encoding.ASCII.GetBytes(sb.ToString()));
        });
        Assert.Equal(431, status);
        await AssertHealthy(s);
    }
}
