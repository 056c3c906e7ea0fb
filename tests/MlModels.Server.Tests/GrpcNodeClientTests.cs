using System.Diagnostics;
using System.Text.Json;
using MlModels.Core.Serving;
using MlModels.Core.Tests;
using Xunit.Abstractions;

namespace MlModels.Server.Tests;

/// <summary>
/// The Open Inference Protocol's gRPC service against a client nobody here wrote: Node's @grpc/grpc-js and
/// @grpc/proto-loader (tests/grpc-client, versions pinned in its package-lock.json) load the specification's .proto as
/// it is and run every RPC, every numeric datatype typed and raw, and each error status (tests/grpc-client/v2_client.js)
/// against servers started here on the ONNX fixtures. CI installs the client with <c>npm ci</c>.
/// </summary>
[Trait("Category", "Grpc")]
public class GrpcNodeClientTests(ITestOutputHelper output)
{
    private static string ClientDir => Path.Combine(TestPaths.RepoRoot, "tests/grpc-client");

    private static bool NodeReady() =>
        Directory.Exists(Path.Combine(ClientDir, "node_modules/@grpc/grpc-js")) && Directory.Exists(Path.Combine(ClientDir, "node_modules/@grpc/proto-loader"))
        && Which("node") != null;

    private static string? Which(string tool) => (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
        .Select(d => Path.Combine(d, tool)).FirstOrDefault(File.Exists);

    [SkippableFact]
    public async Task NodeGrpcClient_PassesEveryCase()
    {
        Prerequisites.Require(NodeReady(), "Node.js with tests/grpc-client's packages (npm ci --prefix tests/grpc-client)");
        var grpc = new ServingOptions { GrpcPort = 0 };
        await using var linear = await RunningServer.StartAsync(RunningServer.LinearModel(), grpc with { MaxBodyBytes = 64 * 1024 });
        await using var identity = await RunningServer.StartAsync(RunningServer.OnnxFixture("identity"), grpc);
        await using var half = await RunningServer.StartAsync(RunningServer.OnnxFixture("half"), grpc);
        await using var tensor = await RunningServer.StartAsync(RunningServer.TensorModel(), grpc with { ModelName = "tensor" });
        await using var multi = await RunningServer.StartAsync(RunningServer.OnnxFixture("multi"), grpc);
        await using var classifier = await RunningServer.StartAsync(RunningServer.OnnxFixture("classifier"), grpc);
        await using var secured = await RunningServer.StartAsync(RunningServer.LinearModel(), grpc with { ApiKey = "sesame" });
        var targets = new Dictionary<string, string?>
        {
            ["linear"] = linear.GrpcAddress, ["identity"] = identity.GrpcAddress, ["half"] = half.GrpcAddress, ["tensor"] = tensor.GrpcAddress,
            ["multi"] = multi.GrpcAddress, ["classifier"] = classifier.GrpcAddress, ["secured"] = secured.GrpcAddress,
        };
        var (exit, lines) = await RunClient(JsonSerializer.Serialize(targets));
        var cases = lines.Select(l => JsonDocument.Parse(l).RootElement).ToList();
        foreach (var c in cases.Where(c => c.TryGetProperty("case", out _)))
            output.WriteLine($"{(c.GetProperty("ok").GetBoolean() ? "passed" : "FAILED")}: {c.GetProperty("case").GetString()} {c.GetProperty("detail").GetString()}");
        var summary = cases.Last();
        Assert.True(summary.TryGetProperty("summary", out _), "the client ended without its summary line:\n" + string.Join("\n", lines));
        var failed = cases.Where(c => c.TryGetProperty("ok", out var ok) && !ok.GetBoolean())
            .Select(c => c.GetProperty("case").GetString() + ": " + c.GetProperty("detail").GetString()).ToList();
        Assert.True(failed.Count == 0 && exit == 0, $"{failed.Count} of the Node client's cases failed:\n" + string.Join("\n", failed));
        Assert.True(summary.GetProperty("ran").GetInt32() >= 20, "the client ran fewer cases than it has");
        Assert.Equal(0, summary.GetProperty("skipped").GetInt32());
    }

    private static async Task<(int Exit, List<string> Lines)> RunClient(string targets)
    {
        var start = new ProcessStartInfo(Which("node")!) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = ClientDir };
        start.ArgumentList.Add(Path.Combine(ClientDir, "v2_client.js"));
        start.ArgumentList.Add(targets);
        using var p = Process.Start(start)!;
        var stderr = p.StandardError.ReadToEndAsync();
        var lines = new List<string>();
        while (await p.StandardOutput.ReadLineAsync() is { } line) if (line.Length > 0) lines.Add(line);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await p.WaitForExitAsync(timeout.Token);
        var err = await stderr;
        if (lines.Count == 0) throw new InvalidOperationException($"The Node client wrote nothing; its error output:\n{err}");
        return (p.ExitCode, lines);
    }
}
