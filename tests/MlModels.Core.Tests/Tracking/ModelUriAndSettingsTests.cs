using MlModels.Core.Tracking;

namespace MlModels.Core.Tests.Tracking;

[Trait("Category", "Fast")]
public class ModelUriTests
{
    [Theory]
    [InlineData("runs:/abc/model", ModelUriKind.Run, null, null, null, null, "model")]
    [InlineData("runs:/abc", ModelUriKind.Run, null, null, null, null, "")]
    [InlineData("models:/churn/3", ModelUriKind.ModelVersion, "churn", "3", null, null, "")]
    [InlineData("models:/churn/3/sub/dir", ModelUriKind.ModelVersion, "churn", "3", null, null, "sub/dir")]
    [InlineData("models:/churn@champion", ModelUriKind.ModelAlias, "churn", null, "champion", null, "")]
    [InlineData("models:/my@team@champion", ModelUriKind.ModelAlias, "my@team", null, "champion", null, "")]
    [InlineData("models:/churn/Production", ModelUriKind.ModelStage, "churn", null, null, "Production", "")]
    [InlineData("models:/churn/latest", ModelUriKind.ModelLatest, "churn", null, null, null, "")]
    [InlineData("mlflow-artifacts:/1/abc/artifacts/model", ModelUriKind.Artifacts, null, null, null, null, "1/abc/artifacts/model")]
    public void Parse_ReadsEachKindAsMlflowDoes(string text, ModelUriKind kind, string? name, string? version, string? alias, string? stage, string path)
    {
        var u = ModelUri.Parse(text);
        Assert.Equal(kind, u.Kind);
        Assert.Equal(name, u.Name);
        Assert.Equal(version, u.Version);
        Assert.Equal(alias, u.Alias);
        Assert.Equal(stage, u.Stage);
        Assert.Equal(path, u.Path);
    }

    [Theory]
    [InlineData("./model")]
    [InlineData("hdfs://namenode/model")]
    [InlineData("https://example.com/model")]
    public void Parse_OtherKinds_ListsTheKindsAccepted(string text)
    {
        var ex = Assert.Throws<ModelUriException>(() => ModelUri.Parse(text));
        Assert.Contains(text, ex.Message);
        Assert.Contains("runs:/<run_id>/<path>", ex.Message);
        Assert.Contains("models:/<name>@<alias>", ex.Message);
        Assert.Contains("mlflow-artifacts:/<path>", ex.Message);
    }

    [Theory]
    [InlineData("models:/churn")]
    [InlineData("models:/")]
    [InlineData("models:/churn@")]
    [InlineData("runs:/")]
    [InlineData("runs:/abc/../../etc")]
    [InlineData("models://profile/churn/1")]
    public void Parse_Malformed_SaysWhatIsWrong(string text)
    {
        var ex = Assert.Throws<ModelUriException>(() => ModelUri.Parse(text));
        Assert.Contains(text, ex.Message);
    }
}

[Trait("Category", "Fast")]
public class TrackingSettingsTests
{
    private static Func<string, string?> Env(params (string, string)[] vars) => n => vars.FirstOrDefault(v => v.Item1 == n).Item2;
    private static readonly string NoHome = TestPaths.NewTempDir();

    [Fact]
    public void NoServer_SaysWhichVariableToSet()
    {
        var ex = Assert.Throws<InvalidOperationException>(() => TrackingSettings.Resolve(environment: Env(), homeDirectory: NoHome));
        Assert.Contains("MLFLOW_TRACKING_URI", ex.Message);
        Assert.Contains("-TrackingUri", ex.Message);
    }

    [Fact]
    public void BasicWinsOverTheToken_WhenBothUserAndPasswordAreSet()
    {
        var s = TrackingSettings.Resolve(environment: Env(("MLFLOW_TRACKING_URI", "http://h:5000"), ("MLFLOW_TRACKING_USERNAME", "u"), ("MLFLOW_TRACKING_PASSWORD", "p"), ("MLFLOW_TRACKING_TOKEN", "t")), homeDirectory: NoHome);
        Assert.IsType<BasicTrackingAuth>(s.Auth);
        var tokenOnly = TrackingSettings.Resolve(environment: Env(("MLFLOW_TRACKING_URI", "http://h:5000"), ("MLFLOW_TRACKING_USERNAME", "u"), ("MLFLOW_TRACKING_TOKEN", "t")), homeDirectory: NoHome);
        Assert.IsType<BearerTrackingAuth>(tokenOnly.Auth);
    }

    [Fact]
    public void CredentialsFile_FillsWhatTheEnvironmentLacks()
    {
        var home = TestPaths.NewTempDir();
        Directory.CreateDirectory(Path.Combine(home, ".mlflow"));
        File.WriteAllText(Path.Combine(home, ".mlflow", "credentials"), "[other]\nmlflow_tracking_username = nobody\n[mlflow]\nmlflow_tracking_username = fileuser\nmlflow_tracking_password = filepass\n");
        var s = TrackingSettings.Resolve(environment: Env(("MLFLOW_TRACKING_URI", "http://h:5000"), ("MLFLOW_TRACKING_USERNAME", "envuser")), homeDirectory: home);
        var basic = Assert.IsType<BasicTrackingAuth>(s.Auth);
        Assert.Equal("envuser", basic.Username);
        Assert.Contains("~/.mlflow/credentials", basic.Description);
    }

    [Fact]
    public void OverridesWin_AndTheRegistryFollowsTrackingUriParameter()
    {
        var env = Env(("MLFLOW_TRACKING_URI", "http://env:5000"), ("MLFLOW_REGISTRY_URI", "http://reg:5001"), ("MLFLOW_TRACKING_TOKEN", "t"));
        var fromEnv = TrackingSettings.Resolve(environment: env, homeDirectory: NoHome);
        Assert.Equal("http://reg:5001/", fromEnv.RegistryUri.ToString());
        Assert.Equal("MLFLOW_REGISTRY_URI", fromEnv.RegistryUriSource);

        var over = TrackingSettings.Resolve(trackingUri: "https://param/prefix", credential: ("me", "pw"), environment: env, homeDirectory: NoHome);
        Assert.Equal("https://param/prefix", over.TrackingUri.ToString());
        Assert.Equal(over.TrackingUri, over.RegistryUri);
        Assert.Equal("-TrackingUri", over.TrackingUriSource);
        Assert.Contains("-Credential", Assert.IsType<BasicTrackingAuth>(over.Auth).Description);
    }

    [Theory]
    [InlineData("true", true)]
    [InlineData("TRUE", true)]
    [InlineData("1", true)]
    [InlineData("False", false)]
    [InlineData("0", false)]
    public void InsecureTls_ReadsMlflowsBooleans(string value, bool expected) =>
        Assert.Equal(expected, TrackingSettings.Resolve(environment: Env(("MLFLOW_TRACKING_URI", "https://h"), ("MLFLOW_TRACKING_INSECURE_TLS", value)), homeDirectory: NoHome).InsecureTls);

    [Fact]
    public void InsecureTls_RefusesOtherValuesAndTheCertPathBeside()
    {
        Assert.Contains("MLFLOW_TRACKING_INSECURE_TLS", Assert.Throws<ArgumentException>(() =>
            TrackingSettings.Resolve(environment: Env(("MLFLOW_TRACKING_URI", "https://h"), ("MLFLOW_TRACKING_INSECURE_TLS", "yes")), homeDirectory: NoHome)).Message);
        Assert.Throws<InvalidOperationException>(() =>
            TrackingSettings.Resolve(environment: Env(("MLFLOW_TRACKING_URI", "https://h"), ("MLFLOW_TRACKING_INSECURE_TLS", "true"), ("MLFLOW_TRACKING_SERVER_CERT_PATH", "/ca.pem")), homeDirectory: NoHome));
    }

    [Fact]
    public void RetrySettings_ComeFromMlflowsVariables()
    {
        var s = TrackingSettings.Resolve(environment: Env(("MLFLOW_TRACKING_URI", "http://h"), ("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2"), ("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "3"),
            ("MLFLOW_HTTP_REQUEST_TIMEOUT", "7"), ("MLFLOW_HTTP_RESPECT_RETRY_AFTER_HEADER", "false")), homeDirectory: NoHome);
        Assert.Equal(2, s.Retry.MaxRetries);
        Assert.Equal(3, s.Retry.BackoffFactor);
        Assert.Equal(TimeSpan.FromSeconds(7), s.Retry.Timeout);
        Assert.False(s.Retry.RespectRetryAfter);
    }

    [Fact]
    public void LocalFolderUri_IsRefusedSayingWhy()
    {
        var ex = Assert.Throws<ArgumentException>(() => TrackingSettings.Resolve(trackingUri: "file:///tmp/mlruns", environment: Env(), homeDirectory: NoHome));
        Assert.Contains("file:///tmp/mlruns", ex.Message);
        Assert.Contains("-TrackingUri", ex.Message);
    }

    private const string Workspace = "azureml://westeurope.api.azureml.ms/mlflow/v1.0/subscriptions/0000-sub/resourceGroups/rg-ml/providers/Microsoft.MachineLearningServices/workspaces/ws-1";

    [Fact]
    public void AzureMLUri_BecomesHttpsUnderTheSamePath()
    {
        Assert.Equal("https://westeurope.api.azureml.ms/mlflow/v1.0/subscriptions/0000-sub/resourceGroups/rg-ml/providers/Microsoft.MachineLearningServices/workspaces/ws-1",
            AzureMLTrackingUri.ToHttps(Workspace).ToString());
        Assert.Equal(("0000-sub", "rg-ml", "ws-1"), AzureMLTrackingUri.Workspace(Workspace));
        var calls = TrackingHttp.Url(AzureMLTrackingUri.ToHttps(Workspace), "/api/2.0/mlflow/model-versions/get", [new("name", "m"), new("version", "1")]);
        Assert.Equal("https://westeurope.api.azureml.ms/mlflow/v1.0/subscriptions/0000-sub/resourceGroups/rg-ml/providers/Microsoft.MachineLearningServices/workspaces/ws-1/api/2.0/mlflow/model-versions/get?name=m&version=1", calls.ToString());
    }

    [Fact]
    public void AzureMLUri_TakesTheAzureCredentialUnlessATokenIsSet()
    {
        Uri? asked = null;
        var s = TrackingSettings.Resolve(trackingUri: Workspace, environment: Env(), homeDirectory: NoHome,
            azureAuth: u => { asked = u; return new TokenProviderTrackingAuth(_ => ValueTask.FromResult("t"), "Azure sign-in"); });
        Assert.True(s.IsAzureML);
        Assert.Equal("Azure sign-in", s.Auth!.Description);
        Assert.Equal(s.TrackingUri, asked);
        Assert.Contains("Connect-AzAccount", s.CredentialHint);

        var withToken = TrackingSettings.Resolve(trackingUri: Workspace, environment: Env(("MLFLOW_TRACKING_TOKEN", "x")), homeDirectory: NoHome, azureAuth: _ => throw new InvalidOperationException("not asked"));
        Assert.IsType<BearerTrackingAuth>(withToken.Auth);
    }

    [Theory]
    [InlineData("azureml://westeurope.api.azureml.ms/")]
    [InlineData("azureml://westeurope.api.azureml.ms/mlflow/v1.0/subscriptions/s/resourceGroups/g")]
    [InlineData("azureml:westeurope")]
    public void AzureMLUri_Malformed_ShowsTheExpectedForm(string uri)
    {
        var ex = Assert.Throws<ArgumentException>(() => AzureMLTrackingUri.ToHttps(uri));
        Assert.Contains("workspaces/<workspace>", ex.Message);
    }
}
