using System.Net.Http.Headers;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using MlModels.Core.Format;
using MlModels.Core.Scoring.Onnx;
using MlModels.Core.Serving;
using MlModels.Core.Tests;

namespace MlModels.Server.Tests;

/// <summary>The server hosted in-process on a free loopback port, reached through a real HTTP client.</summary>
public sealed class RunningServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    public HttpClient Http { get; }
    public Uri BaseAddress { get; }
    public MLModel Model { get; }

    private RunningServer(WebApplication app, MLModel model, Uri address)
    {
        _app = app;
        Model = model;
        BaseAddress = address;
        Http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(60) };
    }

    /// <summary>The Open Inference gRPC service's address (host:port), where the options asked for one.</summary>
    public string? GrpcAddress { get; private init; }

    /// <summary>Starts the server; <c>GrpcPort = 0</c> in the options gives it a gRPC port too, a free one.</summary>
    public static async Task<RunningServer> StartAsync(MLModel model, ServingOptions? options = null)
    {
        options ??= new ServingOptions();
        int? grpc = options.GrpcPort == null ? null : FreePort();
        var app = MlModels.Server.Program.Build(model, options with { Port = 0, GrpcPort = grpc });
        await app.StartAsync();
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        var address = addresses.First(a => grpc == null || !a.EndsWith($":{grpc}", StringComparison.Ordinal));
        return new RunningServer(app, model, new Uri(address)) { GrpcAddress = grpc == null ? null : $"127.0.0.1:{grpc}" };
    }

    private static int FreePort()
    {
        using var l = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        l.Start();
        return ((System.Net.IPEndPoint)l.LocalEndpoint).Port;
    }

    /// <summary>An ONNX fixture of tests/fixtures/onnx wrapped as a model named after it.</summary>
    public static MLModel OnnxFixture(string name) =>
        OnnxPackager.Save(Path.Combine(TestPaths.RepoRoot, $"tests/fixtures/onnx/{name}.onnx"), Path.Combine(TestPaths.NewTempDir(), name));

    /// <summary>The linear ONNX fixture wrapped as a model, with a column signature and a param schema.</summary>
    public static MLModel LinearModel()
    {
        var dir = Path.Combine(TestPaths.NewTempDir(), "linear");
        var m = OnnxPackager.Save(Path.Combine(TestPaths.RepoRoot, "tests/fixtures/onnx/linear.onnx"), dir);
        m.Signature = new ModelSignature(
            new Schema([new ColumnSpec("x1", DataType.Double), new ColumnSpec("x2", DataType.Double), new ColumnSpec("x3", DataType.Double)]),
            null, ParamSchema.Parse("[{\"name\": \"k\", \"type\": \"long\", \"default\": 1, \"shape\": null}]", "params"));
        return ModelStore.Save(m, dir, new SaveOptions(Force: true));
    }

    /// <summary>The linear ONNX fixture wrapped as a model, with the tensor signature the wrapping writes (input: float32 (-1, 3)).</summary>
    public static MLModel TensorModel() =>
        OnnxPackager.Save(Path.Combine(TestPaths.RepoRoot, "tests/fixtures/onnx/linear.onnx"), Path.Combine(TestPaths.NewTempDir(), "linear-tensor"));

    public Task<HttpResponseMessage> PostAsync(string body, string? contentType = "application/json")
    {
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
        // Sent as given, unnormalised, as a client written for MLflow would.
        if (contentType != null) content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        return Http.PostAsync("/invocations", content);
    }

    /// <summary>Stops the host the way SIGTERM does: no new requests, requests in flight finish.</summary>
    public Task StopAsync() => _app.StopAsync();

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
