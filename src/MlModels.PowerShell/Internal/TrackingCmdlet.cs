using System.Management.Automation;
using MlModels.Core.Tracking;

namespace MlModels.PowerShell.Internal;

/// <summary>
/// Base of the registry and publishing cmdlets: -TrackingUri and -Credential, the client they make, and tracking work run
/// off the pipeline thread with Ctrl+C cancelling it. Holds no Core type in its signature (see SyncProgress for why).
/// </summary>
public abstract class TrackingCmdlet : MLModelCmdlet
{
    /// <summary>The tracking server (http(s):// or azureml://); default MLFLOW_TRACKING_URI (registry calls: MLFLOW_REGISTRY_URI).</summary>
    [Parameter]
    public string? TrackingUri { get; set; }

    /// <summary>User name and password for HTTP Basic auth; default MLFLOW_TRACKING_USERNAME/PASSWORD or MLFLOW_TRACKING_TOKEN.</summary>
    [Parameter]
    [Credential]
    public PSCredential? Credential { get; set; }

    private object? _client;

    private protected TrackingClient Client
    {
        get
        {
            if (_client is TrackingClient c) return c;
            try { c = TrackingConnection.Open(TrackingUri, Credential); }
            catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or IOException)
            {
                ThrowTerminatingError(Errors.Record(ex, "TrackingNotConfigured", ErrorCategory.InvalidArgument, TrackingUri));
                throw;
            }
            _client = c;
            return c;
        }
    }

    /// <summary>Runs a tracking call off the pipeline thread; an error becomes a non-terminating ErrorRecord and null.</summary>
    private protected T? Call<T>(object? target, Func<TrackingClient, CancellationToken, Task<T>> work) where T : class
    {
        var client = Client;
        try { return RunPumped(ct => work(client, ct).GetAwaiter().GetResult()); }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            WriteError(Errors.FromException(ex, target));
            return null;
        }
    }

    protected override void EndProcessing() => (_client as IDisposable)?.Dispose();
}
