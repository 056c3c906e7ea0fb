using System.Text.Json;
using MlModels.Core.Scoring.Onnx;
using MlModels.Core.Serving;

namespace MlModels.Core.Tests.Serving;

/// <summary>
/// A body the web server could not read reaches Core as <see cref="RequestBodyException"/> with the web server's status;
/// Core answers it with that status and MLflow's BAD_REQUEST, knowing nothing of the web server.
/// </summary>
[Trait("Category", "Fast")]
public class ScoringServiceBodyTests
{
    private static ScoringService Service(long maxBody = 1000)
    {
        var dir = Path.Combine(TestPaths.NewTempDir(), "m");
        var model = OnnxPackager.Save(Path.Combine(TestPaths.RepoRoot, "tests/fixtures/onnx", "linear.onnx"), dir);
        return new ScoringService(model, new ServingOptions { MaxBodyBytes = maxBody });
    }

    /// <summary>A body that fails on its first read, as a web server's does.</summary>
    private sealed class FailingBody(Exception error) : MemoryStream
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => throw error;
        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => throw error;
    }

    private static (int Status, string Code, string Message) Answer(ServingResponse r)
    {
        using var doc = JsonDocument.Parse(r.Body);
        return (r.Status, doc.RootElement.GetProperty("error_code").GetString()!, doc.RootElement.GetProperty("message").GetString()!);
    }

    [Theory]
    [InlineData(408)]
    [InlineData(400)]
    public async Task AnUnreadableBody_TakesTheWebServersStatus(int status)
    {
        using var service = Service();
        var r = await service.InvokeAsync("application/json", new FailingBody(new RequestBodyException(status, "slow or malformed")), default);
        var (got, code, message) = Answer(r);
        Assert.Equal((status, "BAD_REQUEST"), (got, code));
        Assert.Contains("slow or malformed", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ABodyPastTheLimit_Is413WithTheLimitNamed()
    {
        using var service = Service(maxBody: 1000);
        var r = await service.InvokeAsync("application/json", new FailingBody(new RequestBodyException(413, "too large")), default);
        Assert.Equal((413, "BAD_REQUEST", "The request body is larger than the limit of 1,000 bytes."), Answer(r));
    }

    [Fact]
    public async Task AnotherIOFailure_Is400_WhateverItsText()
    {
        // Only the type counts: a message that mentions size does not make a 413.
        using var service = Service();
        var r = await service.InvokeAsync("text/csv", new FailingBody(new IOException("Request body too large.")), default);
        Assert.Equal(400, Answer(r).Status);
    }

    [Fact]
    public void Refusal_ChecksTheKeyFirst_ThenTheAnnouncedLength()
    {
        using var open = Service(maxBody: 10);
        Assert.Null(open.Refusal(null, null, 10));
        Assert.Equal(413, open.Refusal(null, null, 11)!.Status);
        var dir = Path.Combine(TestPaths.NewTempDir(), "m");
        var model = OnnxPackager.Save(Path.Combine(TestPaths.RepoRoot, "tests/fixtures/onnx", "linear.onnx"), dir);
        using var keyed = new ScoringService(model, new ServingOptions { MaxBodyBytes = 10, ApiKey = "k" });
        Assert.Equal((401, "UNAUTHENTICATED"), (keyed.Refusal(null, null, 11)!.Status, Answer(keyed.Refusal(null, null, 11)!).Code));
        Assert.Equal(413, keyed.Refusal("k", null, 11)!.Status);
        Assert.Null(keyed.Refusal(null, "Bearer k", 5));
    }
}
