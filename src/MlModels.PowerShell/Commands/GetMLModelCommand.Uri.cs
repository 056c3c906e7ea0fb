using System.Management.Automation;
using MlModels.Core.Format;
using MlModels.Core.Tracking;
using MlModels.Deploy.Artifacts;
using MlModels.PowerShell.Internal;

namespace MlModels.PowerShell.Commands;

// Get-MLModel -Uri: models from a tracking server or registry, downloaded into the local model cache.
public sealed partial class GetMLModelCommand
{
    private const string UriSet = "Uri";

    /// <summary>
    /// A model URI: runs:/, models:/name/version, models:/name@alias, models:/name/stage, mlflow-artifacts:/, or a store's own
    /// URI (s3://bucket/path, wasbs://container@account.blob.core.windows.net/path, abfss://, gs://bucket/path, file:///path).
    /// </summary>
    [Parameter(ParameterSetName = UriSet, Mandatory = true, ValueFromPipelineByPropertyName = true)]
    [Alias("ModelUri")]
    [ValidateNotNullOrEmpty]
    public string[] Uri { get; set; } = [];

    /// <summary>The tracking server (http(s):// or an Azure ML workspace's azureml:// URI); default MLFLOW_TRACKING_URI.</summary>
    [Parameter(ParameterSetName = UriSet)]
    public string? TrackingUri { get; set; }

    /// <summary>User name and password for HTTP Basic auth; default MLFLOW_TRACKING_USERNAME/PASSWORD or MLFLOW_TRACKING_TOKEN.</summary>
    [Parameter(ParameterSetName = UriSet)]
    [Credential]
    public PSCredential? Credential { get; set; }

    /// <summary>Downloads again even when the model cache holds the version.</summary>
    [Parameter(ParameterSetName = UriSet)]
    public SwitchParameter Force { get; set; }

    private void ReadUris()
    {
        // A store's own URI (s3://, wasbs://, gs://, file://) needs no tracking server; runs:/ and models:/ do.
        var needsServer = Uri.Any(u => !IsStoreUri(u));
        TrackingClient? client = null;
        if (needsServer)
        {
            try { client = TrackingConnection.Open(TrackingUri, Credential); }
            catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or IOException)
            {
                ThrowTerminatingError(Errors.Record(ex, "TrackingNotConfigured", ErrorCategory.InvalidArgument, TrackingUri));
                return;
            }
        }
        using (client)
        {
            var downloader = new ModelDownloader(client) { Repositories = CloudArtifactStores.All(client) };
            foreach (var uri in Uri)
            {
                var progress = new ProgressRecord(ProgressIds.ResolveModelUri, "Get-MLModel", $"Resolving {uri}");
                try
                {
                    var downloaded = RunPumped(ct => downloader.DownloadAsync(uri, Force, new SyncProgress<DownloadProgress>(p => Post(() =>
                    {
                        progress.Activity = $"Downloading {uri}";
                        TrackingConnection.Describe(progress, p);
                        WriteProgress(progress);
                    })), ct).GetAwaiter().GetResult());
                    WriteVerbose($"{uri}: {(downloaded.Origin.FromCache ? "from the model cache" : "downloaded")} at {downloaded.Path} " +
                        $"({downloaded.Origin.ArtifactUri}).");
                    var model = ModelStore.Load(downloaded.Path);
                    model.Origin = downloaded.Origin;
                    WriteObject(model);
                }
                catch (Exception ex) when (ex is not PipelineStoppedException)
                {
                    WriteError(Errors.FromException(ex, uri));
                }
                finally
                {
                    progress.RecordType = ProgressRecordType.Completed;
                    WriteProgress(progress);
                }
            }
        }
    }

    private static bool IsStoreUri(string uri)
    {
        try { return ModelUri.Parse(uri).Kind == ModelUriKind.Store; }
        catch (ModelUriException) { return false; }
    }
}
