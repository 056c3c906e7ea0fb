using System.Diagnostics;
using Azure.Core;
using Azure.Identity;
using MlModels.Deploy.AzureML;

namespace MlModels.Deploy.Tests.AzureML;

[Trait("Category", "Fast")]
public class AzureCredentialFactoryTests
{
    private static readonly TokenRequestContext Arm = new([AzureCloud.Public.ResourceManagerScope]);

    private static Func<string, string?> Env(params (string Name, string Value)[] vars)
    {
        var d = vars.ToDictionary(v => v.Name, v => (string?)v.Value);
        return n => d.GetValueOrDefault(n);
    }

    [Fact]
    public void Sources_WithNothingConfigured_AreTriedInTheDocumentedOrder()
    {
        var names = AzureCredentialFactory.Sources(new AzureCredentialOptions { Environment = Env() }).Select(s => s.Name);
        Assert.Equal(["AzurePipelines", "Environment", "WorkloadIdentity", "AzurePowerShell", "AzureCli", "ManagedIdentity"], names);
    }

    [Fact]
    public void Sources_InAPipelineTask_UseTheServiceConnectionFirst()
    {
        var sources = AzureCredentialFactory.Sources(new AzureCredentialOptions
        {
            Environment = Env(("AZURESUBSCRIPTION_SERVICE_CONNECTION_ID", "sc"), ("AZURESUBSCRIPTION_CLIENT_ID", "app"),
                ("AZURESUBSCRIPTION_TENANT_ID", "tenant"), ("SYSTEM_ACCESSTOKEN", "oidc")),
        });
        Assert.IsType<AzurePipelinesCredential>(sources[0].Credential);
        Assert.IsType<ManagedIdentityCredential>(sources[^1].Credential);
    }

    [Fact]
    public void Sources_WithWorkloadIdentityVariables_BuildAWorkloadIdentityCredential()
    {
        var sources = AzureCredentialFactory.Sources(new AzureCredentialOptions
        {
            Environment = Env(("AZURE_FEDERATED_TOKEN_FILE", "/var/run/token"), ("AZURE_CLIENT_ID", "app"), ("AZURE_TENANT_ID", "t")),
        });
        Assert.IsType<WorkloadIdentityCredential>(sources.Single(s => s.Name == "WorkloadIdentity").Credential);
        Assert.IsNotType<EnvironmentCredential>(sources.Single(s => s.Name == "Environment").Credential);
    }

    [Fact]
    public async Task Chain_PartlyConfiguredPipeline_NamesTheMissingVariables()
    {
        var chain = AzureCredentialFactory.Create(new AzureCredentialOptions
        {
            Environment = Env(("AZURESUBSCRIPTION_CLIENT_ID", "app")),
        });
        var first = chain.Sources[0].Credential;
        var ex = await Assert.ThrowsAsync<CredentialUnavailableException>(() => first.GetTokenAsync(Arm, default).AsTask());
        Assert.Contains("SYSTEM_ACCESSTOKEN", ex.Message);
        Assert.Contains("AZURESUBSCRIPTION_SERVICE_CONNECTION_ID", ex.Message);
    }

    [Fact]
    public void ServicePrincipal_IsUsedAloneAndNeedsATenant()
    {
        var sources = AzureCredentialFactory.Sources(new AzureCredentialOptions { TenantId = "t", ClientId = "app", ClientSecret = "s" });
        Assert.IsType<ClientSecretCredential>(Assert.Single(sources).Credential);
        var ex = Assert.Throws<ArgumentException>(() => AzureCredentialFactory.Sources(new AzureCredentialOptions { ClientId = "app", ClientSecret = "s" }));
        Assert.Contains("-TenantId", ex.Message);
    }

    [Fact]
    public async Task Chain_SkipsUnavailableSources_AndKeepsTheOneThatWorked()
    {
        var good = new CountingCredential();
        var chain = new AzureCredentialChain([
            new CredentialSource("A", "hint a", new UnavailableCredential("a is not set up")),
            new CredentialSource("B", "hint b", good),
            new CredentialSource("C", "hint c", new ThrowingCredential()),
        ]);
        Assert.Equal("token-1", (await chain.GetTokenAsync(Arm, default)).Token);
        Assert.Equal("token-2", (await chain.GetTokenAsync(Arm, default)).Token);
        Assert.Equal("B", chain.SourceUsed);
    }

    [Fact]
    public async Task Chain_StopsAtASourceThatIsSetUpButRefuses()
    {
        var chain = new AzureCredentialChain([
            new CredentialSource("A", "hint a", new UnavailableCredential("a is not set up")),
            new CredentialSource("B", "check the secret", new RefusingCredential()),
            new CredentialSource("C", "hint c", new ThrowingCredential()),
        ]);
        var ex = await Assert.ThrowsAsync<AzureSignInException>(() => chain.GetTokenAsync(Arm, default).AsTask());
        Assert.Equal(["A: a is not set up (hint a)", "B: AADSTS7000215: Invalid client secret provided. (check the secret)"], ex.SourcesTried);
        Assert.IsType<AuthenticationFailedException>(ex.InnerException);
    }

    [SkippableFact]
    public async Task RealChain_WithNoSignIn_NamesEverySourceAndConnectAzAccount()
    {
        // Runs the real Azure.Identity credentials: az and pwsh are asked, and the managed identity endpoint is probed.
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        Skip.If(Directory.Exists(Path.Combine(home, ".azure")) || Directory.Exists(Path.Combine(home, ".Azure")), "this machine has an Azure sign-in, so the chain could succeed");
        Skip.If(Environment.GetEnvironmentVariable("IDENTITY_ENDPOINT") != null || Environment.GetEnvironmentVariable("MSI_ENDPOINT") != null, "this machine has a managed identity endpoint");
        var chain = AzureCredentialFactory.Create(new AzureCredentialOptions { Environment = Env(), ProcessTimeout = TimeSpan.FromSeconds(20) });
        var sw = Stopwatch.StartNew();
        var ex = await Assert.ThrowsAsync<AzureSignInException>(() => chain.GetTokenAsync(Arm, default).AsTask());
        Assert.Equal(["AzurePipelines", "Environment", "WorkloadIdentity", "AzurePowerShell", "AzureCli", "ManagedIdentity"], ex.SourcesTried.Select(s => s.Split(':')[0]));
        Assert.Contains("Connect-AzAccount", ex.Message);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(90), $"the chain took {sw.Elapsed}");
    }

    [Fact]
    public void Clouds_HaveTheirResourceManagerScopes()
    {
        Assert.Equal("https://management.azure.com/.default", AzureCloud.FromName("azurecloud").ResourceManagerScope);
        Assert.Equal("https://management.chinacloudapi.cn/.default", AzureCloud.FromName("AzureChinaCloud").ResourceManagerScope);
        Assert.Equal("https://login.microsoftonline.us/", AzureCloud.FromName("AzureUSGovernment").AuthorityHost.ToString());
        Assert.Equal("http://127.0.0.1:5000/.default", AzureCloud.Custom(new Uri("http://127.0.0.1:5000/"), new Uri("https://login.example/")).ResourceManagerScope);
        Assert.Contains("AzureChinaCloud", Assert.Throws<ArgumentException>(() => AzureCloud.FromName("Mars")).Message);
    }

    private sealed class CountingCredential : TokenCredential
    {
        private int _n;
        public override AccessToken GetToken(TokenRequestContext r, CancellationToken c) => new($"token-{++_n}", DateTimeOffset.UtcNow.AddHours(1));
        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext r, CancellationToken c) => new(GetToken(r, c));
    }

    private sealed class RefusingCredential : TokenCredential
    {
        public override AccessToken GetToken(TokenRequestContext r, CancellationToken c) => throw new AuthenticationFailedException("AADSTS7000215: Invalid client secret provided.\nTrace ID: x");
        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext r, CancellationToken c) => throw new AuthenticationFailedException("AADSTS7000215: Invalid client secret provided.\nTrace ID: x");
    }

    private sealed class ThrowingCredential : TokenCredential
    {
        public override AccessToken GetToken(TokenRequestContext r, CancellationToken c) => throw new InvalidOperationException("must not be asked");
        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext r, CancellationToken c) => throw new InvalidOperationException("must not be asked");
    }
}

[Trait("Category", "Fast")]
public class AzureSubscriptionTests
{
    [Fact]
    public void Default_PrefersTheEnvironment_ThenTheAzCliDefault()
    {
        var dir = Path.Combine(Path.GetTempPath(), "mlmodels-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "azureProfile.json"), "\uFEFF{\"subscriptions\":[{\"id\":\"aaa\",\"isDefault\":false},{\"id\":\"bbb\",\"isDefault\":true}]}");
        Assert.Equal("bbb", AzureSubscription.Default(n => n == "AZURE_CONFIG_DIR" ? dir : null));
        Assert.Equal("ccc", AzureSubscription.Default(n => n switch { "AZURE_CONFIG_DIR" => dir, "AZURE_SUBSCRIPTION_ID" => "ccc", _ => null }));
        Assert.Null(AzureSubscription.Default(n => n == "AZURE_CONFIG_DIR" ? Path.Combine(dir, "none") : null));
    }
}
