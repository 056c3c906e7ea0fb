using System.Management.Automation;
using MlModels.Core.Tracking;

namespace MlModels.PowerShell.Internal;

/// <summary>
/// The tracking client a cmdlet uses: MLflow's environment variables, with -TrackingUri and -Credential over them, and
/// the Azure sign-in for azureml:// workspaces. Internal and top-level (see SyncProgress for why).
/// </summary>
internal static class TrackingConnection
{
    public static TrackingClient Open(string? trackingUri, PSCredential? credential)
    {
        var settings = TrackingSettings.Resolve(
            trackingUri,
            credential == null ? null : (credential.UserName, credential.GetNetworkCredential().Password),
            azureAuth: MlModels.Deploy.AzureML.AzureMLTrackingAuth.Create);
        return new TrackingClient(settings);
    }

    /// <summary>The progress line of a download: file at hand and bytes.</summary>
    public static void Describe(ProgressRecord record, DownloadProgress p)
    {
        record.StatusDescription = p.File == null ? p.Uri : $"{p.File} ({FormatBytes(p.BytesDone)} of {FormatBytes(p.BytesTotal)} listed)";
        record.PercentComplete = p.BytesTotal > 0 ? (int)Math.Clamp(100 * p.BytesDone / p.BytesTotal, 0, 100) : -1;
    }

    private static string FormatBytes(long b) => b switch
    {
        < 1024 => $"{b} B",
        < 1024 * 1024 => $"{b / 1024.0:0.#} KiB",
        _ => $"{b / (1024.0 * 1024):0.#} MiB",
    };
}
