using System.Management.Automation;
using MlModels.Core.Format;
using MlModels.Core.Serving;
using MlModels.PowerShell.Internal;

namespace MlModels.PowerShell.Commands;

/// <summary>Serves a model over MLflow's scoring protocol in its own process: in the foreground until Ctrl+C, -Background (until the session
/// ends) or -Detached (until stopped).</summary>
[Cmdlet(VerbsLifecycle.Start, "MLModelServer", SupportsShouldProcess = true)]
[OutputType(typeof(MLModelServerInfo))]
public sealed class StartMLModelServerCommand : MLModelCmdlet
{
    [Parameter(ValueFromPipeline = true)]
    public MLModel? Model { get; set; }

    /// <summary>The model folder, instead of -Model.</summary>
    [Parameter]
    [Alias("ModelPath")]
    public string? Path { get; set; }

    [Parameter]
    [ValidateRange(0, 65535)]
    public int Port { get; set; } = 5000;

    /// <summary>The address to listen on; 127.0.0.1 unless told otherwise.</summary>
    [Parameter]
    public string HostName { get; set; } = "127.0.0.1";

    [Parameter]
    [ValidateRange(1, 86_400)]
    public int TimeoutSec { get; set; } = 60;

    /// <summary>Python workers for python_function models.</summary>
    [Parameter]
    [ValidateRange(1, 256)]
    public int Workers { get; set; } = 1;

    [Parameter]
    [ValidateRange(1, 100_000)]
    public int MaxRequestBodyMB { get; set; } = 100;

    /// <summary>The model's name on the Open Inference (V2) endpoints; default MLMODELS_MODEL_NAME, else the model folder's name.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ModelName { get; set; }

    /// <summary>Serves the Open Inference Protocol's gRPC service (HTTP/2 without TLS) on this port too; off unless given.</summary>
    [Parameter]
    [ValidateRange(1, 65535)]
    public int GrpcPort { get; set; }

    /// <summary>Requests must then send it in the X-API-Key header (or as a Bearer token). It reaches the server through its environment, not
    /// its command line.</summary>
    [Parameter]
    public System.Security.SecureString? ApiKey { get; set; }

    [Parameter]
    public string? PythonPath { get; set; }

    /// <summary>
    /// Local (the Python at hand; a version other than the model's is a warning), VirtualEnv or Conda (the model's
    /// environment, made first as Initialize-MLModelEnvironment makes it, or reused from the cache).
    /// </summary>
    [Parameter]
    [ValidateSet("Local", "VirtualEnv", "Conda")]
    public string EnvManager { get; set; } = "Local";

    /// <summary>Returns the server object at once and leaves the server running until this session ends.</summary>
    [Parameter]
    public SwitchParameter Background { get; set; }

    /// <summary>Returns the server object at once; the server outlives this session and runs until Stop-MLModelServer stops it.</summary>
    [Parameter]
    public SwitchParameter Detached { get; set; }

    /// <summary>Seconds to wait for the server to answer /ping after it starts.</summary>
    [Parameter]
    [ValidateRange(1, 3600)]
    public int StartTimeoutSec { get; set; } = 120;

    protected override void ProcessRecord()
    {
        var model = ModelFromArguments(Model, Path);
        if (model == null) return;
        if (model.Path == null)
        {
            WriteError(Errors.Record(new InvalidOperationException("Save the model before serving it."), "ModelNotSaved",
            ErrorCategory.InvalidOperation, model)); return;
        }
        if (!ShouldProcess($"http://{HostName}:{Port}", $"Serve model '{model.Name}'")) return;

        var python = PythonPath;
        if (EnvManager != "Local" && model.Flavors.ContainsKey("python_function") && !model.Flavors.ContainsKey("onnx"))
        {
            // The environment is made here, with progress, and the server runs its workers on the environment's Python.
            try
            {
                var env = RunPumped(ct => MlModels.Core.Scoring.Python.PythonEnvironments.Initialize(model, PythonPath,
                    Enum.Parse<MlModels.Core.Scoring.Python.EnvManager>(EnvManager),
                    new SyncProgress<string>(line => Post(() => WriteVerbose(line))), ct));
                WriteVerbose($"{EnvManager} environment {env.Directory} ({(env.Created ? "made now" : "reused")}); Python {env.Python}.");
                python = env.Python;
            }
            catch (MlModels.Core.Scoring.Python.PythonWorkerException ex) { WriteError(Errors.FromPythonWorker(ex, ex, model)); return; }
            catch (OperationCanceledException) { return; }
        }
        var settings = new ServerSettings
        {
            ModelPath = model.Path, Host = HostName, Port = Port, Timeout = TimeSpan.FromSeconds(TimeoutSec), Workers = Workers,
            MaxBodyMB = MaxRequestBodyMB, PythonPath = python, ModelName = ModelName,
            GrpcPort = MyInvocation.BoundParameters.ContainsKey(nameof(GrpcPort)) ? GrpcPort : null,
        };
        var lifetime = Detached ? ServerLifetime.Detached : Background ? ServerLifetime.Session : ServerLifetime.Foreground;
        var apiKey = ApiKey == null ? null : new System.Net.NetworkCredential("", ApiKey).Password;
        var progress = new ProgressRecord(
            ProgressIds.StartServer,
            "Start-MLModelServer",
            $"Starting the server for {model.Name} on {HostName}:{Port}");
        try
        {
            RunPumped(ct =>
            {
                var server = ServerSessions.Launcher.Start(settings, lifetime, apiKey, TimeSpan.FromSeconds(StartTimeoutSec),
                    onLine: line => Post(() => WriteVerbose(line)), onWaiting: () => Post(() => WriteProgress(progress)), ct);
                Post(() => { progress.RecordType = ProgressRecordType.Completed; WriteProgress(progress); });
                if (lifetime != ServerLifetime.Foreground)
                {
                    Post(() => WriteObject(server.Info));
                    return 0;
                }
                Post(() => Host.UI.WriteLine($"Serving '{model.Name}' on {server.Info.Url}; press Ctrl+C to stop."));
                try { server.WaitForExit(ct); }
                finally { ServerSessions.Launcher.Stop(server.Info, TimeSpan.FromSeconds(TimeoutSec + 5)); }
                return 0;
            });
        }
        catch (ServerRuntimeMissingException ex)
        {
            ThrowTerminatingError(Errors.Record(ex, "ServerRuntimeMissing", ErrorCategory.NotInstalled,
            model));
        }
        catch (ServerStartException ex)
        {
            var record = Errors.Record(ex, "ServerStartFailed", ErrorCategory.OpenError, model);
            WriteError(ex.AddressInUse ? Errors.WithAdvice(record, "Choose another port with -Port.") : record);
        }
        catch (OperationCanceledException) { }
    }
}
