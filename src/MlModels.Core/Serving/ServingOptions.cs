using MlModels.Core.Scoring.Python;

namespace MlModels.Core.Serving;

/// <summary>Settings of a scoring server; the defaults are those of <c>mlflow models serve</c>.</summary>
public sealed record ServingOptions
{
    public string Host { get; init; } = "127.0.0.1";
    public int Port { get; init; } = 5000;
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(60);
    public long MaxBodyBytes { get; init; } = 100L * 1024 * 1024;
    /// <summary>Python workers for python_function models (requests are spread over them).</summary>
    public int Workers { get; init; } = 1;
    /// <summary>When set, requests must carry it in the X-API-Key header (or as a Bearer token).</summary>
    public string? ApiKey { get; init; }
    public PythonOptions? Python { get; init; }
    public int Threads { get; init; }
    /// <summary>The model's name on the Open Inference endpoints (<c>/v2/models/NAME</c>); null: the model folder's name.</summary>
    public string? ModelName { get; init; }
    /// <summary>The port of the Open Inference Protocol's gRPC service (h2c); null: none (0: any free port).</summary>
    public int? GrpcPort { get; init; }
    /// <summary>The model's version on the Open Inference endpoints; null: its registry version (<c>Origin</c>), else "1".</summary>
    public string? ModelVersion { get; init; }
}
