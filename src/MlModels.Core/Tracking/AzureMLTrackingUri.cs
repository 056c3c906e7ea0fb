using System.Text.RegularExpressions;

namespace MlModels.Core.Tracking;

/// <summary>
/// An Azure ML workspace's MLflow tracking URI
/// (<c>azureml://&lt;region&gt;.api.azureml.ms/mlflow/v1.0/subscriptions/&lt;id&gt;/resourceGroups/&lt;rg&gt;</c>
/// <c>/providers/Microsoft.MachineLearningServices/workspaces/&lt;name&gt;</c>,
/// what <c>(Get-AzMLWorkspace).MlflowTrackingUri</c> and the workspace's portal page show): the REST API is the same
/// path under https (the azureml-mlflow plugin's rule), signed with an Azure Resource Manager token.
/// </summary>
public static partial class AzureMLTrackingUri
{
    [GeneratedRegex(@"^/mlflow/v[0-9.]+/subscriptions/(?<sub>[^/]+)/resourceGroups/(?<rg>[^/]+)" +
        @"/providers/Microsoft\.MachineLearningServices/workspaces/(?<ws>[^/]+)/?$", RegexOptions.IgnoreCase)]
    private static partial Regex WorkspacePath();

    /// <summary>The https base for REST calls; the URI's path is kept (the calls go to &lt;base&gt;/api/2.0/mlflow/...).</summary>
    public static Uri ToHttps(string azuremlUri)
    {
        var (host, path) = Split(azuremlUri);
        return new Uri($"https://{host}{path.TrimEnd('/')}");
    }

    /// <summary>Subscription, resource group and workspace named by the URI.</summary>
    public static (string SubscriptionId, string ResourceGroup, string Workspace) Workspace(string azuremlUri)
    {
        var (_, path) = Split(azuremlUri);
        var m = WorkspacePath().Match(path);
        return (Uri.UnescapeDataString(m.Groups["sub"].Value), Uri.UnescapeDataString(m.Groups["rg"].Value), Uri.UnescapeDataString(
            m.Groups["ws"].Value));
    }

    private static (string Host, string Path) Split(string azuremlUri)
    {
        const string Expected = "azureml://<region>.api.azureml.ms/mlflow/v1.0/subscriptions/<subscription " +
            "id>/resourceGroups/<group>/providers/Microsoft.MachineLearningServices/workspaces/<workspace>";
        if (!azuremlUri.StartsWith("azureml://", StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException($"'{azuremlUri}' is not an Azure ML tracking URI; expected {Expected}.");
        var rest = azuremlUri["azureml://".Length..];
        var slash = rest.IndexOf('/');
        if (slash <= 0) throw new ArgumentException($"'{azuremlUri}' names no workspace; expected {Expected}.");
        var host = rest[..slash];
        var path = rest[slash..];
        var q = path.IndexOfAny(['?', '#']);
        if (q >= 0) path = path[..q];
        if (!WorkspacePath().IsMatch(path) || host.Contains('@') || Uri.CheckHostName(host.Split(':')[0]) != UriHostNameType.Dns)
            throw new ArgumentException($"'{azuremlUri}' is not an Azure ML workspace tracking URI; expected {Expected}.");
        return (host, path);
    }
}
