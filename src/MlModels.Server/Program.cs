using Microsoft.AspNetCore.Server.Kestrel.Core;
using MlModels.Core;
using MlModels.Core.Format;
using MlModels.Core.Scoring.Python;
using MlModels.Core.Serving;
using MlModels.Core.Serving.OpenInference;

namespace MlModels.Server;

/// <summary>
/// MLflow's scoring server for one model, on Kestrel.
///   MlModels.Server --model DIR [--host 127.0.0.1] [--port 5000] [--timeout 60] [--workers 1] [--max-body-mb 100] [--python PATH]
///                   [--watch-stdin] [--log-file PATH] [--detach]
///   MlModels.Server serve    (SageMaker's contract: model at /opt/ml/model, 0.0.0.0:8080)
/// The arguments are defined once, in Core's ServerCommandLine, which Start-MLModelServer and container images use.
/// An API key, if wanted, comes from the MLMODELS_API_KEY environment variable (never the command line).
/// The server stops gracefully, finishing requests in flight, on SIGTERM, Ctrl+C, or when its standard input closes.
/// </summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        if (args.Length > 0 && args[0] == HealthCheck.Command) return await HealthCheck.RunAsync(args);
        var timeline = new StartupTimeline();
        ServerSettings settings;
        try { settings = ServerCommandLine.Parse(args); }
        catch (ArgumentException ex)
        {
            await Console.Error.WriteLineAsync(ex.Message);
            return 2;
        }
        if (settings.Detach) Detach();
        if (settings.LogFile != null) LogTo(settings.LogFile);
        var options = settings.ToServingOptions(Environment.GetEnvironmentVariable(ServerCommandLine.ApiKeyVariable));
        MLModel model;
        try
        {
            model = ModelStore.Load(settings.ModelPath);
            timeline.Mark("model read");
        }
        catch (Exception ex) when (ex is MLModelFormatException or IOException)
        {
            await Console.Error.WriteLineAsync($"Cannot load the model: {ex.Message}");
            return 3;
        }
        WebApplication app;
        try { app = Build(model, options, settings.WatchStdin, timeline); }
        catch (Exception ex) when (ex is PythonWorkerException or InvalidOperationException or MLModelFormatException)
        {
            await Console.Error.WriteLineAsync($"Cannot start scoring model '{model.Name}': {ex.Message}");
            return 4;
        }
        try { await app.RunAsync(); }
        catch (IOException ex) when (ex.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException)
        {
            await Console.Error.WriteLineAsync($"Cannot listen on {options.Host}:{options.Port}: the address is already in " +
                $"use. Choose another port.");
            return 5;
        }
        return 0;
    }

    /// <summary>The log, and anything written to standard error, goes to a file the server owns (it may outlive whoever reads its output).</summary>
    private static void LogTo(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var writer = new StreamWriter(new FileStream(path, FileMode.Append, FileAccess.Write,
            FileShare.ReadWrite | FileShare.Delete))
        { AutoFlush = true };
        var synced = TextWriter.Synchronized(writer);
        Console.SetOut(synced);
        Console.SetError(synced);
    }

    /// <summary>A session of its own (Unix), so the hang-up of the terminal or CI step that started it does not reach it.</summary>
    private static void Detach()
    {
        if (!OperatingSystem.IsWindows()) _ = setsid();
    }

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    private static extern int setsid();

    /// <summary>The server as a WebApplication (tests host it in-process on a free port with <c>port: 0</c>).</summary>
    public static WebApplication Build(MLModel model, ServingOptions options, bool watchStdin = false, StartupTimeline? timeline = null)
    {
        // Scoring blocks a thread per request (ONNX Runtime and Python workers are synchronous); start with enough
        // pool threads that a burst of connections does not wait for the pool to grow.
        ThreadPool.GetMinThreads(out var workers, out var io);
        ThreadPool.SetMinThreads(Math.Max(workers, 64), Math.Max(io, 64));
        // The host's content root is the server's own folder, and no configuration file is watched: by default it is
        // the working directory, watched with its whole tree for appsettings.json changes, which in a container (working
        // directory /) or a large folder walks every directory below it before the server listens: seconds of start.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ContentRootPath = AppContext.BaseDirectory,
            Args = ["--hostBuilder:reloadConfigOnChange=false"],
        });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = options.MaxBodyBytes;
            k.AddServerHeader = false;
            var address = System.Net.IPAddress.Parse(options.Host == "localhost" ? "127.0.0.1" : options.Host);
            k.Listen(address, options.Port);
            // gRPC on a port of its own, HTTP/2 without TLS (h2c), as KServe's V2 images serve it.
            if (options.GrpcPort is { } grpcPort) k.Listen(address, grpcPort, l => l.Protocols = HttpProtocols.Http2);
        });
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = options.Timeout + TimeSpan.FromSeconds(5));
        var log = new RequestLog(Console.Out);
        // ONNX Runtime's own log lines go to this log, not to the console.
        MlModels.Core.Scoring.Onnx.OnnxRuntimeLog.Unrouted = m => log.Message(m.ToString());
        var service = new ScoringService(model, options, msg => log.Message(msg));
        timeline?.Mark("scorer");
        builder.Services.AddSingleton(service);
        var v2 = new OpenInferenceService(service, options.ModelName, msg => log.Message(msg), options.ModelVersion);
        if (options.GrpcPort != null)
        {
            builder.Services.AddSingleton(v2);
            // One body limit for both transports: a message past it is RESOURCE_EXHAUSTED, as a body past it is 413.
            builder.Services.AddGrpc(o =>
            {
                o.MaxReceiveMessageSize = (int)Math.Min(options.MaxBodyBytes, int.MaxValue);
                o.MaxSendMessageSize = null;
            });
            builder.Services.AddGrpcHealthChecks().AddCheck("model", () => service.Ready
                ? Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult.Healthy()
                : Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult.Unhealthy("the model is not loaded"));
        }
        var app = builder.Build();
        app.Lifetime.ApplicationStopped.Register(service.Dispose);

        app.Use(async (ctx, next) =>
        {
            // A gRPC message is held to the one body limit by gRPC itself (RESOURCE_EXHAUSTED), not by Kestrel's,
            // whose refusal a gRPC client would see only as an unknown error.
            if (options.GrpcPort != null && ctx.Request.ContentType?.StartsWith("application/grpc", StringComparison.Ordinal) == true
                && ctx.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
                limit.MaxRequestBodySize = null;
            var start = System.Diagnostics.Stopwatch.GetTimestamp();
            await next();
            var ms = System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            log.Request(ctx.Request.Method, ctx.Request.Path, ctx.Response.StatusCode, ms);
            if (timeline?.FirstRequest(ctx.Request.Method, ctx.Request.Path, ctx.Response.StatusCode, ms) is { } first) log.Message(first);
        });
        app.MapGet("/ping", () => service.Ready ? Results.Text("\n", "application/json") : Results.StatusCode(503));
        app.MapGet("/health", () => service.Ready ? Results.Text("\n", "application/json") : Results.StatusCode(503));
        app.MapGet("/version", () => Results.Text(ModuleVersion.Full, "application/json"));
        // MLflow's server answers other methods on /invocations with 405.
        app.MapMethods("/invocations", ["GET", "PUT", "DELETE", "PATCH", "HEAD"], () => Results.StatusCode(405));
        app.MapGet("/metrics", () => Results.Text(service.Metrics.Render(), "text/plain; version=0.0.4"));
        app.MapPost("/invocations", async (HttpContext ctx) =>
        {
            if (Refusal(service, ctx.Request) is { } refused)
            {
                await Write(ctx, refused);
                return;
            }
            var body = new KestrelBody(ctx.Request.Body);
            await Write(ctx, await service.InvokeAsync(ctx.Request.ContentType, body, ctx.RequestAborted, ctx.Request.ContentLength));
        });
        // Azure ML's scoring contract for MLflow models (liveness GET /, POST /score with input_data), beside MLflow's.
        app.MapGet(AzureMLContract.LivenessPath,
            () => service.Ready ? Results.Text(AzureMLContract.LivenessBody, "text/plain") : Results.StatusCode(503));
        app.MapPost(AzureMLContract.ScorePath, async (HttpContext ctx) =>
        {
            if (Refusal(service, ctx.Request) is { } refused)
            {
                await Write(ctx, refused);
                return;
            }
            if (ctx.Request.ContentType is not { } contentType || ScoringService.ParseContentType(contentType).MediaType != "application/json")
            {
                await Write(ctx,
                    ServingResponse.Error(415, "BAD_REQUEST", $"Azure ML's /score takes application/json. Got '{ctx.Request.ContentType ?? ""}'."));
                return;
            }
            var body = new MemoryStream();
            try { await new KestrelBody(ctx.Request.Body).CopyToAsync(body, ctx.RequestAborted); }
            catch (RequestBodyException ex)
            {
                await Write(ctx, service.UnreadableBody(ex.Status, ex.Message));
                return;
            }
            var (mlflow, error) = AzureMLContract.TranslateRequest(body.GetBuffer().AsSpan(0, (int)body.Length));
            if (error != null)
            {
                await Write(ctx, error);
                return;
            }
            var response = await service.InvokeAsync("application/json", new MemoryStream(mlflow!), ctx.RequestAborted);
            await Write(ctx, AzureMLContract.TranslateResponse(response));
        });
        // The Open Inference Protocol's REST endpoints (KServe V2), beside MLflow's; the work is OpenInferenceService's.
        app.MapGet("/v2/health/live", (HttpContext ctx) => Write(ctx, OpenInferenceService.Live()));
        app.MapGet("/v2/health/ready", (HttpContext ctx) => Write(ctx, v2.Ready()));
        app.MapGet("/v2", (HttpContext ctx) => Write(ctx, OpenInferenceService.ServerMetadata())); // routing takes "/v2/" too
        app.MapGet("/v2/models/{name}", (HttpContext ctx, string name) => Write(ctx, v2.ModelMetadata(name, null)));
        app.MapGet("/v2/models/{name}/versions/{version}",
            (HttpContext ctx, string name, string version) => Write(ctx, v2.ModelMetadata(name, version)));
        app.MapGet("/v2/models/{name}/ready", (HttpContext ctx, string name) => Write(ctx, v2.ModelReady(name, null)));
        app.MapGet("/v2/models/{name}/versions/{version}/ready",
            (HttpContext ctx, string name, string version) => Write(ctx, v2.ModelReady(name, version)));
        app.MapPost("/v2/models/{name}/infer", (HttpContext ctx, string name) => Infer(ctx, v2, name, null));
        app.MapPost("/v2/models/{name}/versions/{version}/infer",
            (HttpContext ctx, string name, string version) => Infer(ctx, v2, name, version));
        if (options.GrpcPort != null)
        {
            app.MapGrpcService<InferenceGrpcService>();
            app.MapGrpcHealthChecksService();
        }
        app.MapFallback((HttpContext ctx) => Write(ctx,
            ServingResponse.Error(404, "ENDPOINT_NOT_FOUND", $"No endpoint {ctx.Request.Method} {ctx.Request.Path}.")));

        if (watchStdin)
        {
            // The parent (Start-MLModelServer) closes our stdin to ask for a graceful stop.
            var lifetime = app.Lifetime;
            new Thread(() =>
            {
                try { while (Console.In.Read() >= 0) { } } catch (IOException) { }
                lifetime.StopApplication();
            })
            { IsBackground = true, Name = "stdin-watch" }.Start();
        }
        timeline?.Mark("host");
        if (timeline != null) app.Lifetime.ApplicationStarted.Register(() => log.Message(timeline.Listening()));
        app.Lifetime.ApplicationStarted.Register(() => log.Message($"serving model '{model.Name}' on http://{options.Host}:{options.Port}" +
            (options.GrpcPort is { } g ? $", Open Inference gRPC on {options.Host}:{g}" : "")));
        app.Lifetime.ApplicationStopping.Register(() => log.Message("stopping: requests in flight finish first"));
        app.Lifetime.ApplicationStopped.Register(() =>
        {
            log.Message("stopped");
            log.Dispose();
        });
        return app;
    }

    /// <summary>The one check of both scoring endpoints before their body is read: API key, then announced length.</summary>
    private static ServingResponse? Refusal(ScoringService service, HttpRequest request)
    {
        var key = request.Headers["X-API-Key"];
        var authorization = request.Headers.Authorization;
        return service.Refusal(key.Count > 0 ? key[0] : null, authorization.Count > 0 ? authorization[0] : null, request.ContentLength);
    }

    private static async Task Infer(HttpContext ctx, OpenInferenceService v2, string name, string? version)
    {
        var key = ctx.Request.Headers["X-API-Key"];
        var authorization = ctx.Request.Headers.Authorization;
        await Write(ctx, await v2.InferAsync(name, version, new KestrelBody(ctx.Request.Body), ctx.Request.ContentLength,
            key.Count > 0 ? key[0] : null, authorization.Count > 0 ? authorization[0] : null, ctx.RequestAborted));
    }

    private static Task Write(HttpContext ctx, ServingResponse r)
    {
        ctx.Response.StatusCode = r.Status;
        ctx.Response.ContentType = r.ContentType;
        ctx.Response.ContentLength = r.Body.Length;
        return ctx.Response.Body.WriteAsync(r.Body, 0, r.Body.Length);
    }
}
