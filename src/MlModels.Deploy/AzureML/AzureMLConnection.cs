namespace MlModels.Deploy.AzureML;

/// <summary>How to reach and sign in to a workspace, in plain values (no Azure SDK types, so callers in another load context can build it).</summary>
public sealed record AzureMLConnectionOptions(AzureMLWorkspace Workspace)
{
    public string Environment { get; init; } = "AzureCloud";
    public Uri? ResourceManagerUrl { get; init; }
    public Uri? AuthorityHost { get; init; }
    public string? TenantId { get; init; }
    public string? ClientId { get; init; }
    public string? ClientSecret { get; init; }
    public string? AccessToken { get; init; }
    /// <summary>A blob service to use instead of the datastore's own host (a private endpoint or an emulator).</summary>
    public Uri? BlobServiceUri { get; init; }
    public Action<string>? Log { get; init; }

    public AzureCloud Cloud => ResourceManagerUrl != null
        ? AzureCloud.Custom(ResourceManagerUrl, AuthorityHost ?? AzureCloud.Public.AuthorityHost)
        : AzureCloud.FromName(Environment);
}

/// <summary>A signed-in deployer for one workspace: the credential chain, the ARM client, the datastore uploader.</summary>
public sealed class AzureMLConnection : IDisposable
{
    private readonly ArmClient _arm;

    private AzureMLConnection(ArmClient arm, AzureMLDeployer deployer)
    {
        _arm = arm;
        Deployer = deployer;
    }

    public AzureMLDeployer Deployer { get; }

    public static AzureMLConnection Open(AzureMLConnectionOptions o)
    {
        var cloud = o.Cloud;
        var credential = AzureCredentialFactory.Create(new AzureCredentialOptions
        {
            Cloud = cloud, TenantId = o.TenantId, ClientId = o.ClientId, ClientSecret = o.ClientSecret, AccessToken = o.AccessToken,
        });
        var arm = new ArmClient(cloud.ResourceManagerUrl, credential, cloud.ResourceManagerScope) { Log = o.Log };
        var client = new AzureMLClient(arm, o.Workspace);
        var uploader = new DatastoreUploader(client, credential) { BlobServiceUri = o.BlobServiceUri };
        return new AzureMLConnection(arm, new AzureMLDeployer(client, uploader, credential, cloud.MachineLearningScope));
    }

    public void Dispose()
    {
        Deployer.Dispose();
        _arm.Dispose();
    }
}
