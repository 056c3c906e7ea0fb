using Azure.Core;
using MlModels.Core.Tracking;

namespace MlModels.Deploy.AzureML;

/// <summary>
/// Signs MLflow REST calls to an Azure ML workspace (azureml:// tracking URIs) with an Azure Resource Manager token from
/// the module's credential chain (AzureCredentialFactory), as the azureml-mlflow plugin does, so Connect-AzAccount or
/// az login users need nothing else. The token is kept until five minutes before it expires (asking Az PowerShell or
/// the az CLI for one starts a process).
/// </summary>
public static class AzureMLTrackingAuth
{
    public static ITrackingAuth Create(Uri workspaceUri) => Create(workspaceUri, new AzureCredentialOptions { Cloud = CloudOf(workspaceUri) });

    public static ITrackingAuth Create(Uri workspaceUri, AzureCredentialOptions options)
    {
        var chain = AzureCredentialFactory.Create(options);
        var context = new TokenRequestContext([options.Cloud.ResourceManagerScope]);
        var gate = new SemaphoreSlim(1, 1);
        AccessToken? token = null;
        return new TokenProviderTrackingAuth(async ct =>
        {
            await gate.WaitAsync(ct).ConfigureAwait(false);
            try
            {
                if (token is not { } t || t.ExpiresOn <= DateTimeOffset.UtcNow.AddMinutes(5))
                    token = await chain.GetTokenAsync(context, ct).ConfigureAwait(false);
                return token.Value.Token;
            }
            finally { gate.Release(); }
        }, $"an Azure token for {workspaceUri.Host} (Azure sign-in: Connect-AzAccount, az login, a service principal in " +
            $"AZURE_CLIENT_ID/AZURE_TENANT_ID/AZURE_CLIENT_SECRET, or managed identity)");
    }

    /// <summary>The Azure cloud a workspace's API host belongs to (api.azureml.ms, api.ml.azure.cn, api.ml.azure.us).</summary>
    public static AzureCloud CloudOf(Uri workspaceUri) => workspaceUri.Host switch
    {
        var h when h.EndsWith(".ml.azure.cn", StringComparison.OrdinalIgnoreCase) => AzureCloud.China,
        var h when h.EndsWith(".ml.azure.us", StringComparison.OrdinalIgnoreCase) => AzureCloud.USGovernment,
        _ => AzureCloud.Public,
    };
}
