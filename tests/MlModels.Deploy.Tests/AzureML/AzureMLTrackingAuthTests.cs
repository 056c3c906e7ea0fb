using Azure.Core;
using MlModels.Deploy.AzureML;

namespace MlModels.Deploy.Tests.AzureML;

[Trait("Category", "Fast")]
public class AzureMLTrackingAuthTests
{
    private sealed class CountingCredential(TimeSpan lifetime) : TokenCredential
    {
        public List<string[]> Scopes { get; } = [];
        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken) => throw new NotSupportedException();
        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken)
        {
            Scopes.Add(requestContext.Scopes);
            return new(new AccessToken($"token-{Scopes.Count}", DateTimeOffset.UtcNow + lifetime));
        }
    }

    private static readonly Uri Workspace = new("https://westeurope.api.azureml.ms/mlflow/v1.0/subscriptions/s/resourceGroups/g/providers/Microsoft.MachineLearningServices/workspaces/w");

    [Fact]
    public async Task SignsWithAResourceManagerToken_KeptUntilItNearlyExpires()
    {
        var cred = new CountingCredential(TimeSpan.FromHours(1));
        var auth = AzureMLTrackingAuth.Create(Workspace, new AzureCredentialOptions { Credential = cred });
        var first = await auth.GetHeaderAsync(default);
        var second = await auth.GetHeaderAsync(default);
        Assert.Equal("Bearer", first.Scheme);
        Assert.Equal("token-1", second.Parameter);
        Assert.Equal(["https://management.azure.com/.default"], Assert.Single(cred.Scopes));
        Assert.Contains("Connect-AzAccount", auth.Description);
    }

    [Fact]
    public async Task AsksAgainForATokenAboutToExpire()
    {
        var cred = new CountingCredential(TimeSpan.FromMinutes(2));
        var auth = AzureMLTrackingAuth.Create(Workspace, new AzureCredentialOptions { Credential = cred });
        await auth.GetHeaderAsync(default);
        Assert.Equal("token-2", (await auth.GetHeaderAsync(default)).Parameter);
    }

    [Theory]
    [InlineData("https://chinaeast2.api.ml.azure.cn/mlflow/v1.0/x", "AzureChinaCloud")]
    [InlineData("https://usgovvirginia.api.ml.azure.us/mlflow/v1.0/x", "AzureUSGovernment")]
    [InlineData("https://eastus.api.azureml.ms/mlflow/v1.0/x", "AzureCloud")]
    public void TheCloudFollowsTheWorkspaceHost(string uri, string cloud) =>
        Assert.Equal(cloud, AzureMLTrackingAuth.CloudOf(new Uri(uri)).Name);
}
