using System.Globalization;
using MlModels.Core.Scoring.Python;

namespace MlModels.Core.Serving;

/// <summary>How the scoring server executable is told to run: the model, where to listen, and how it lives.</summary>
public sealed record ServerSettings
{
    public string ModelPath { get; init; } = "";
    /// <summary>127.0.0.1 unless told otherwise, as <c>mlflow models serve</c>.</summary>
    public string Host { get; init; } = "127.0.0.1";
    public int Port { get; init; } = 5000;
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>Python workers for python_function models.</summary>
    public int Workers { get; init; } = 1;
    public double MaxBodyMB { get; init; } = 100;
    /// <summary>Scoring threads (0: the runtime's choice).</summary>
    public int Threads { get; init; }
    public string? PythonPath { get; init; }
    /// <summary>How the Python workers' environment is made: Local (the Python as it is), VirtualEnv or Conda (the model's own, cached).</summary>
    public EnvManager EnvManager { get; init; } = EnvManager.Local;
    /// <summary>Stop gracefully when standard input closes (the parent's way of asking; it ends with the parent).</summary>
    public bool WatchStdin { get; init; }
    /// <summary>Write the log (JSON lines) and any error output to this file rather than standard output.</summary>
    public string? LogFile { get; init; }
    /// <summary>Leave the starting process's session (Unix), so a closing terminal or a finished CI step does not stop it.</summary>
    public bool Detach { get; init; }
    /// <summary>
    /// The model's name on the Open Inference endpoints; null: <see cref="ServerCommandLine.ModelNameVariable"/>, else the
    /// folder's name.
    /// </summary>
    public string? ModelName { get; init; }
    /// <summary>The Open Inference Protocol's gRPC port; null: no gRPC service.</summary>
    public int? GrpcPort { get; init; }

    /// <summary>The options the scoring service runs with; the API key comes from the environment, never the command line.</summary>
    public ServingOptions ToServingOptions(string? apiKey) => new()
    {
        Host = Host,
        Port = Port,
        Timeout = Timeout,
        Workers = Workers,
        MaxBodyBytes = (long)(MaxBodyMB * 1024 * 1024),
        Threads = Threads,
        ApiKey = string.IsNullOrEmpty(apiKey) ? null : apiKey,
        Python = new PythonOptions(PythonPath, EnvManager, Timeout),
        ModelName = ModelName ?? (Environment.GetEnvironmentVariable(ServerCommandLine.ModelNameVariable) is { Length: > 0 } name ? name : null),
        GrpcPort = GrpcPort,
        ModelVersion = Environment.GetEnvironmentVariable(ServerCommandLine.ModelVersionVariable) is { Length: > 0 } version ? version : null,
    };
}

/// <summary>
/// The one definition of the scoring server's command line. Start-MLModelServer launches
/// <c>dotnet MlModels.Server.dll</c> with <see cref="For"/>, a container image uses the same arguments as its
/// ENTRYPOINT (<see cref="Command"/>), and the server reads them back with <see cref="Parse"/>.
/// </summary>
public static class ServerCommandLine
{
    /// <summary>The environment variable that carries the API key (kept off the command line, where any user could read it).</summary>
    public const string ApiKeyVariable = "MLMODELS_API_KEY";

    /// <summary>The model's name on the Open Inference endpoints when <c>--model-name</c> does not give one.</summary>
    public const string ModelNameVariable = "MLMODELS_MODEL_NAME";

    /// <summary>The model's version on the Open Inference endpoints where the model does not carry its registry version.</summary>
    public const string ModelVersionVariable = "MLMODELS_MODEL_VERSION";

    /// <summary>
    /// The runtime's gen0 budget for the server: sized from the CPU's cache by default, which on large-cache hosts makes
    /// rare but long gen0 pauses (the p99 of small requests) and a larger working set. The runtime reads it only from the
    /// environment, so the launcher and the images set it, unless the environment already has it.
    /// </summary>
    public const string Gen0SizeVariable = "DOTNET_GCgen0size";
    public const string Gen0Size = "0x800000";

    /// <summary>SageMaker's container contract: <c>serve</c> means the model at /opt/ml/model, on 0.0.0.0:<see cref="ServePort"/>.</summary>
    public const string Serve = "serve";

    /// <summary>The port <c>serve</c> listens on where SageMaker sets none: 5001 runs the image as Azure ML's inference server does.</summary>
    public const string ServePortVariable = "MLMODELS_SERVE_PORT";

    /// <summary><c>serve</c>'s port (and the health check's): SAGEMAKER_BIND_TO_PORT, then MLMODELS_SERVE_PORT, then 8080.</summary>
    public static int ServePort() =>
        int.TryParse(Environment.GetEnvironmentVariable("SAGEMAKER_BIND_TO_PORT"), out var sp) && sp is > 0 and <= 65535 ? sp
        : int.TryParse(Environment.GetEnvironmentVariable(ServePortVariable), out var mp) && mp is > 0 and <= 65535 ? mp
        : 8080;
    public const string SageMakerModelPath = "/opt/ml/model";

    /// <summary>The Open Inference gRPC port <c>serve</c> listens on beside the HTTP one (8081, as KServe's V2 images);
    /// <see cref="GrpcPortVariable"/> changes it, and "off" there turns it off.</summary>
    public const int ServeGrpcPort = 8081;
    public const string GrpcPortVariable = "MLMODELS_GRPC_PORT";

    /// <summary><c>serve</c>'s gRPC port: MLMODELS_GRPC_PORT (a port, or "off" for none), else 8081.</summary>
    public static int? ServeGrpc() => Environment.GetEnvironmentVariable(GrpcPortVariable) switch
    {
        null or "" => ServeGrpcPort,
        "off" => null,
        var text => int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var p) && p is > 0 and <= 65535 ? p
            : throw new ArgumentException($"{GrpcPortVariable} takes a port from 1 to 65535 or 'off', not '{text}'."),
    };

    private const string Usage = "Usage: MlModels.Server --model DIR [--host H] [--port N] [--timeout S] [--workers N] [--max-body-mb " +
        "N] [--threads N] [--model-name NAME] [--grpc-port N] [--python PATH] [--env-manager local|virtualenv|conda] [--watch-stdin] " +
        "[--log-file PATH] [--detach] | serve";

    /// <summary>
    /// The environment manager <c>serve</c> uses: a generic Python image sets virtualenv, so a mounted model's missing
    /// requirements are installed into a cached environment at start; MLMODELS_INSTALL_REQUIREMENTS=0 turns that off.
    /// </summary>
    public const string ServeEnvManagerVariable = "MLMODELS_SERVE_ENV_MANAGER";
    public const string InstallRequirementsVariable = "MLMODELS_INSTALL_REQUIREMENTS";

    private static EnvManager ParseEnvManager(string text) => text.ToLowerInvariant() switch
    {
        "local" => EnvManager.Local,
        "virtualenv" => EnvManager.VirtualEnv,
        "conda" => EnvManager.Conda,
        _ => throw new ArgumentException($"--env-manager takes local, virtualenv or conda, not '{text}'. {Usage}"),
    };

    /// <summary>The server's arguments (after the server assembly) for these settings.</summary>
    public static IReadOnlyList<string> For(ServerSettings s)
    {
        if (string.IsNullOrEmpty(s.ModelPath)) throw new ArgumentException("The server needs a model folder.", nameof(s));
        var args = new List<string>
        {
            "--model", s.ModelPath,
            "--host", s.Host,
            "--port", Text(s.Port),
            "--timeout", s.Timeout.TotalSeconds.ToString("R", CultureInfo.InvariantCulture),
            "--workers", Text(s.Workers),
            "--max-body-mb", s.MaxBodyMB.ToString("R", CultureInfo.InvariantCulture),
        };
        if (s.Threads > 0) args.AddRange(["--threads", Text(s.Threads)]);
        if (s.ModelName != null) args.AddRange(["--model-name", s.ModelName]);
        if (s.GrpcPort is { } grpc) args.AddRange(["--grpc-port", Text(grpc)]);
        if (s.PythonPath != null) args.AddRange(["--python", s.PythonPath]);
        if (s.EnvManager != EnvManager.Local) args.AddRange(["--env-manager", s.EnvManager.ToString().ToLowerInvariant()]);
        if (s.WatchStdin) args.Add("--watch-stdin");
        if (s.LogFile != null) args.AddRange(["--log-file", s.LogFile]);
        if (s.Detach) args.Add("--detach");
        return args;
    }

    /// <summary>The whole command, host first: <c>dotnet SERVER.dll --model ...</c> (a Dockerfile's ENTRYPOINT in exec form).</summary>
    public static IReadOnlyList<string> Command(string serverAssembly, ServerSettings s, string dotnetHost = "dotnet") =>
        [dotnetHost, serverAssembly, .. For(s)];

    /// <summary>Reads the server's arguments back into settings; an unknown or malformed argument is an
    /// ArgumentException that shows the usage.</summary>
    public static ServerSettings Parse(IReadOnlyList<string> args)
    {
        var s = new ServerSettings();
        string? model = null;
        for (int i = 0; i < args.Count; i++)
        {
            var name = args[i];
            string Next() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{name} needs a value. {Usage}");
            int Int() => int.TryParse(Next(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v >= 0
                ? v
                : throw new ArgumentException($"{name} takes a whole number, not '{args[i]}'. {Usage}");
            double Number() => double.TryParse(Next(), NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && v > 0 && double.IsFinite(v)
                ? v
                : throw new ArgumentException($"{name} takes a positive number, not '{args[i]}'. {Usage}");
            switch (name)
            {
                case Serve:
                    model ??= SageMakerModelPath;
                    s = s with { Host = "0.0.0.0", Port = ServePort(), GrpcPort = ServeGrpc() };
                    if (Environment.GetEnvironmentVariable(ServeEnvManagerVariable) is { Length: > 0 } manager
                        && Environment.GetEnvironmentVariable(InstallRequirementsVariable) != "0")
                        s = s with { EnvManager = ParseEnvManager(manager) };
                    break;
                case "--model" or "-m": model = Next(); break;
                case "--host" or "-h": s = s with { Host = Next() }; break;
                case "--port" or "-p":
                    var port = Int();
                    s = port <= 65535
                        ? s with { Port = port }
                        : throw new ArgumentException($"{name} takes a port from 0 to 65535, not {port}. {Usage}");
                    break;
                case "--timeout" or "-t": s = s with { Timeout = TimeSpan.FromSeconds(Number()) }; break;
                case "--workers" or "-w": s = s with { Workers = Math.Max(1, Int()) }; break;
                case "--max-body-mb": s = s with { MaxBodyMB = Number() }; break;
                case "--threads": s = s with { Threads = Int() }; break;
                case "--model-name": s = s with { ModelName = Next() }; break;
                case "--grpc-port":
                    var grpcPort = Int();
                    s = grpcPort <= 65535
                        ? s with { GrpcPort = grpcPort }
                        : throw new ArgumentException($"{name} takes a port from 0 to 65535, not {grpcPort}. {Usage}");
                    break;
                case "--python": s = s with { PythonPath = Next() }; break;
                case "--env-manager": s = s with { EnvManager = ParseEnvManager(Next()) }; break;
                case "--watch-stdin": s = s with { WatchStdin = true }; break;
                case "--log-file": s = s with { LogFile = Next() }; break;
                case "--detach": s = s with { Detach = true }; break;
                default: throw new ArgumentException($"Unknown argument '{name}'. {Usage}");
            }
        }
        if (model == null) throw new ArgumentException($"Give the model folder with --model (or '{Serve}' for {SageMakerModelPath}). {Usage}");
        return s with { ModelPath = model };
    }

    private static string Text(int v) => v.ToString(CultureInfo.InvariantCulture);
}
