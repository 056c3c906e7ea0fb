using System.Text;
using MlModels.Core.Format;
using MlModels.Core.Tests;
using MlModels.Deploy.AzureML;

namespace MlModels.Deploy.Tests.AzureML;

[Trait("Category", "Fast")]
public sealed class AzureMLDeployerTests : IDisposable
{
    private readonly ArmFake _fake = new();
    private readonly FastTime _time = new();
    private readonly ArmClient _arm;
    private readonly AzureMLClient _client;
    private readonly AzureMLDeployer _deployer;
    private readonly string _model;
    private readonly List<DeploymentProgress> _progress = [];

    public AzureMLDeployerTests()
    {
        _arm = new ArmClient(ArmFake.ArmBase, new StaticTokenCredential(ArmFake.Token), "https://management.fake.test/.default", _fake, _time);
        _client = new AzureMLClient(_arm, new AzureMLWorkspace(ArmFake.Sub, ArmFake.Rg, ArmFake.WsName));
        var uploader = new DatastoreUploader(_client, new StaticTokenCredential(ArmFake.Token))
        {
            BlobServiceUri = new Uri($"https://{ArmFake.BlobHost}/"),
            Transport = new HttpClient(_fake, disposeHandler: false),
        };
        _deployer = new AzureMLDeployer(_client, uploader, new StaticTokenCredential(ArmFake.Token), "https://management.fake.test/.default", _fake);
        _model = Path.Combine(TestPaths.NewTempDir(), "sk-model");
        CopyDir(Path.Combine(TestPaths.Examples, "pyfunc-custom"), _model);
    }

    public void Dispose() => _arm.Dispose();

    private IProgress<DeploymentProgress> Progress => new SyncProgress(_progress);

    private sealed class SyncProgress(List<DeploymentProgress> list) : IProgress<DeploymentProgress>
    {
        public void Report(DeploymentProgress value) { lock (list) list.Add(value); }
    }

    private static void CopyDir(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var f in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            var dest = Path.Combine(to, Path.GetRelativePath(from, f));
            Directory.CreateDirectory(Path.GetDirectoryName(dest)!);
            File.Copy(f, dest);
        }
    }

    private AzureMLPublishRequest Request(string endpoint = "churn-endpoint") => new(_model, endpoint);

    [Fact]
    public async Task Publish_UploadsRegistersAndDeploys_FollowingEveryLongRunningOperation()
    {
        var result = await _deployer.PublishAsync(Request() with { InstanceType = "Standard_DS2_v2", InstanceCount = 2 }, ModelStore.Load(_model), Progress, default);

        Assert.Empty(_fake.Violations);
        Assert.Equal("churn-endpoint", result.Name);
        Assert.Equal("Succeeded", result.ProvisioningState);
        Assert.Equal(new Uri("https://churn-endpoint.eastus.inference.fake.test/score"), result.ScoringUri);
        Assert.Equal(100, result.Traffic["blue"]);
        var blue = Assert.Single(result.Deployments);
        Assert.Equal(("blue", "Succeeded", "Standard_DS2_v2", (int?)2), (blue.Name, blue.ProvisioningState, blue.InstanceType, blue.InstanceCount));
        Assert.EndsWith("/models/sk-model/versions/1", result.ModelId);

        // Every file of the model folder is in the datastore's container, byte for byte.
        foreach (var f in Directory.GetFiles(_model, "*", SearchOption.AllDirectories))
        {
            var key = _fake.Blobs.Keys.Single(k => k.EndsWith("/sk-model/" + Path.GetRelativePath(_model, f).Replace('\\', '/'), StringComparison.Ordinal));
            Assert.StartsWith("azureml-blobstore-test/LocalUpload/", key);
            Assert.Equal(File.ReadAllText(f), Encoding.UTF8.GetString(_fake.Blobs[key]));
        }
        var ws = _fake.WsPath;
        Assert.Equal([
            $"GET {ws}", $"GET {ws}/datastores?isDefault=true", $"POST {ws}/datastores/workspaceblobstore/listSecrets",
            $"GET {ws}/models/sk-model/versions", $"PUT {ws}/models/sk-model/versions/1",
            $"GET {ws}/onlineEndpoints/churn-endpoint", $"PUT {ws}/onlineEndpoints/churn-endpoint",
        ], _fake.Calls.Where(c => !c.Contains("/fake/")).Take(7));
        // The endpoint PUT answered 201 + Azure-AsyncOperation: polled (Retry-After 15 honoured), then re-read.
        Assert.Contains(TimeSpan.FromSeconds(15), _time.Delays);
        var afterDeploymentPut = _fake.Calls.SkipWhile(c => c != $"PUT {ws}/onlineEndpoints/churn-endpoint/deployments/blue").Skip(1).ToList();
        Assert.Equal(["GET /fake/operations/", "GET /fake/operations/", "GET /fake/operations/"], afterDeploymentPut.Take(3).Select(c => c[..21]));
        Assert.Equal($"GET {ws}/onlineEndpoints/churn-endpoint/deployments/blue", afterDeploymentPut[3]);
        Assert.Contains(_progress, p => p.Activity.StartsWith("Uploading", StringComparison.Ordinal) && p.PercentComplete == 100);
        Assert.Contains(_progress, p => p.Status == "InProgress");
    }

    [Fact]
    public async Task Publish_SecondDeployment_KeepsTrafficUntilAskedThenSplitsIt()
    {
        await _deployer.PublishAsync(Request(), ModelStore.Load(_model), null, default);
        var green = await _deployer.PublishAsync(Request() with { DeploymentName = "green" }, ModelStore.Load(_model), null, default);
        Assert.Equal(new Dictionary<string, int> { ["blue"] = 100 }, green.Traffic);
        Assert.EndsWith("/versions/2", green.ModelId);
        var split = await _deployer.SetTrafficAsync("churn-endpoint", new Dictionary<string, int> { ["blue"] = 90, ["green"] = 10 }, null, default);
        Assert.Equal(10, split.Traffic["green"]);
        Assert.Equal(["blue", "green"], split.Deployments.Select(d => d.Name).Order());
        Assert.Empty(_fake.Violations);
    }

    [Fact]
    public async Task Publish_FailedDeployment_ShowsTheErrorTheLogsAndWhatAzureLeaves()
    {
        _fake.FailingDeployments.Add("blue");
        var ex = await Assert.ThrowsAsync<AzureMLDeploymentFailedException>(() => _deployer.PublishAsync(Request(), ModelStore.Load(_model), null, default));
        Assert.Contains("ResourceNotReady", ex.Message);
        Assert.Contains("User container has crashed", ex.Message);
        Assert.Contains("No module named 'sklearn'", ex.Message);
        Assert.Contains("Azure keeps the deployment 'blue' in state Failed on endpoint 'churn-endpoint' (created by this command)", ex.Message);
        Assert.Contains("Remove-MLModelAzureMLEndpoint -Name churn-endpoint", ex.Message);
        Assert.Contains($"POST {_fake.WsPath}/onlineEndpoints/churn-endpoint/deployments/blue/getLogs", _fake.Calls);
        // No traffic was pointed at the failed deployment.
        Assert.DoesNotContain(_fake.Resources[$"/onlineEndpoints/churn-endpoint"]["properties"]!["traffic"]?.AsObject() ?? [], kv => kv.Key == "blue");
    }

    [Fact]
    public async Task Publish_QuotaError_IsPassedOnWithItsCodeAndMessage()
    {
        var ex = await Assert.ThrowsAsync<AzureMLDeploymentFailedException>(() => _deployer.PublishAsync(Request() with { InstanceType = "Standard_NoQuota_v9" }, ModelStore.Load(_model), null, default));
        Assert.Equal("QuotaExceeded", ex.Code);
        Assert.Contains("Not enough quota available for Standard_NoQuota_v9", ex.Message);
        Assert.Contains("endpoint 'churn-endpoint' was created by this command and is left with no deployment", ex.Message);
    }

    [Fact]
    public async Task Throttled_CallsAreRetriedAfterRetryAfter()
    {
        _fake.Throttle("/datastores", 2);
        await _deployer.PublishAsync(Request(), ModelStore.Load(_model), null, default);
        Assert.Equal(3, _fake.Calls.Count(c => c.EndsWith("/datastores?isDefault=true", StringComparison.Ordinal)));
        Assert.Equal(2, _time.Delays.Count(d => d == TimeSpan.FromSeconds(7)));
        Assert.Empty(_fake.Violations);
    }

    [Fact]
    public async Task MissingWorkspace_IsNamed()
    {
        _fake.WorkspaceExists = false;
        var ex = await Assert.ThrowsAsync<AzureMLResourceNotFoundException>(() => _deployer.PublishAsync(Request(), ModelStore.Load(_model), null, default));
        Assert.Contains("my-aml-workspace (resource group test-rg", ex.Message);
        Assert.Contains("ResourceNotFound", ex.Message);
    }

    [Theory]
    [InlineData("1endpoint")]
    [InlineData("my_endpoint")]
    [InlineData("ab")]
    [InlineData("endpoint-")]
    [InlineData("an-endpoint-name-that-is-far-too-long-for-dns")]
    public async Task BadEndpointName_IsRefusedBeforeAnyCall(string name)
    {
        var ex = await Assert.ThrowsAsync<ArgumentException>(() => _deployer.PublishAsync(Request(name), ModelStore.Load(_model), null, default));
        Assert.Contains($"'{name}'", ex.Message);
        Assert.Empty(_fake.Calls);
    }

    [Fact]
    public async Task ModelWithoutPyfunc_IsSentToTheScoringScriptDeployment()
    {
        var model = ModelStore.Load(_model);
        model.RemoveFlavor("python_function");
        var ex = await Assert.ThrowsAsync<NotSupportedException>(() => _deployer.PublishAsync(Request(), model, null, default));
        Assert.Contains("Export-MLModelAzureML", ex.Message);
        Assert.Contains("score.py", ex.Message);
        Assert.Contains("Publish-MLModelAzureML -ScoringScript", ex.Message);
        Assert.Empty(_fake.Calls);
    }

    [Fact]
    public async Task Publish_ScoringScript_RegistersCodeAndEnvironment_AndDeploysThemWithTheModel()
    {
        var result = await _deployer.PublishAsync(Request() with { ScoringScript = true }, ModelStore.Load(_model), Progress, default);

        Assert.Empty(_fake.Violations);
        var script = _fake.Blobs.Single(b => b.Key.EndsWith("/code/score.py", StringComparison.Ordinal));
        Assert.StartsWith("azureml-blobstore-test/LocalUpload/", script.Key);
        Assert.Equal(AzureMLExporter.ScorePy().ReplaceLineEndings("\n"), Encoding.UTF8.GetString(script.Value).ReplaceLineEndings("\n"));
        var codeUri = _fake.Resources["/codes/sk-model-code/versions/1"]["properties"]!["codeUri"]!.GetValue<string>();
        Assert.StartsWith("https://devstoreaccount1.blob.", codeUri);
        Assert.EndsWith(script.Key[..^"/score.py".Length], codeUri);
        var env = _fake.Resources["/environments/sk-model-env/versions/1"]["properties"]!;
        Assert.Equal(AzureMLExportOptions.DefaultImage, env["image"]!.GetValue<string>());
        Assert.Contains("azureml-inference-server-http", env["condaFile"]!.GetValue<string>());
        var deployment = _fake.Resources["/onlineEndpoints/churn-endpoint/deployments/blue"]["properties"]!;
        Assert.Equal("score.py", deployment["codeConfiguration"]!["scoringScript"]!.GetValue<string>());
        Assert.Equal(_fake.WsPath + "/codes/sk-model-code/versions/1", deployment["codeConfiguration"]!["codeId"]!.GetValue<string>());
        Assert.Equal(_fake.WsPath + "/environments/sk-model-env/versions/1", deployment["environmentId"]!.GetValue<string>());
        Assert.Equal(_fake.WsPath + "/models/sk-model/versions/1", deployment["model"]!.GetValue<string>());
        var ws = _fake.WsPath;
        var order = _fake.Calls.Where(c => c.StartsWith("PUT", StringComparison.Ordinal)).ToList();
        Assert.Equal([$"PUT {ws}/models/sk-model/versions/1", $"PUT {ws}/codes/sk-model-code/versions/1", $"PUT {ws}/environments/sk-model-env/versions/1"], order.Take(3));
        Assert.Equal("Succeeded", result.ProvisioningState);
    }

    [Fact]
    public async Task Publish_ScoringScript_FromAnEditedExportFolder_DeploysItsPythonFilesAndEnvironment_EvenWithoutPyfunc()
    {
        var folder = TestPaths.NewTempDir();
        File.WriteAllText(Path.Combine(folder, "score.py"), "import helpers\n\ndef init():\n    pass\n\ndef run(raw):\n    return helpers.X\n");
        File.WriteAllText(Path.Combine(folder, "helpers.py"), "X = []\n");
        Directory.CreateDirectory(Path.Combine(folder, "environment"));
        File.WriteAllText(Path.Combine(folder, "environment", "conda.yaml"), "name: custom\ndependencies:\n- python=3.11\n");
        Directory.CreateDirectory(Path.Combine(folder, "model"));
        File.WriteAllText(Path.Combine(folder, "model", "MLmodel"), "flavors: {}\n");
        var model = ModelStore.Load(_model);
        model.RemoveFlavor("python_function");

        await _deployer.PublishAsync(Request() with { ScoringScript = true, CodePath = folder }, model, null, default);

        Assert.Empty(_fake.Violations);
        // The code folder is the upload holding score.py (the model's own code/ folder is uploaded with the model).
        var prefix = _fake.Blobs.Keys.Single(k => k.EndsWith("/code/score.py", StringComparison.Ordinal))[..^"score.py".Length];
        var code = _fake.Blobs.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal)).Select(k => k[prefix.Length..]).Order(StringComparer.Ordinal);
        Assert.Equal(["helpers.py", "score.py"], code);
        Assert.Equal("name: custom\ndependencies:\n- python=3.11\n", _fake.Resources["/environments/sk-model-env/versions/1"]["properties"]!["condaFile"]!.GetValue<string>());
    }

    [Fact]
    public async Task ScoringScript_ThatCannotLoadTheModel_OrAFolderWithoutScorePy_IsRefusedBeforeAnyCall()
    {
        var model = ModelStore.Load(_model);
        model.RemoveFlavor("python_function");
        var ex = await Assert.ThrowsAsync<NotSupportedException>(() => _deployer.PublishAsync(Request() with { ScoringScript = true }, model, null, default));
        Assert.Contains("-CodePath", ex.Message);
        await Assert.ThrowsAsync<FileNotFoundException>(() => _deployer.PublishAsync(Request() with { ScoringScript = true, CodePath = TestPaths.NewTempDir() }, ModelStore.Load(_model), null, default));
        await Assert.ThrowsAsync<ArgumentException>(() => _deployer.PublishAsync(Request() with { ScoringScript = true, Batch = true, ComputeName = "cpu" }, ModelStore.Load(_model), null, default));
        Assert.Empty(_fake.Calls);
    }

    [Fact]
    public void Plan_OfAScoringScriptDeployment_NamesTheCodeAndEnvironmentVersions()
    {
        var calls = AzureMLDeployer.Plan(new Uri("https://management.azure.com/"), new AzureMLWorkspace("sub1", "rg", "ws"), Request() with { ScoringScript = true, ModelVersion = "3" });
        Assert.Contains(calls, c => c.Contains("/codes/sk-model-code/versions/3?api-version=2025-12-01 (CodeVersions_CreateOrUpdate)", StringComparison.Ordinal));
        Assert.Contains(calls, c => c.Contains("/environments/sk-model-env/versions/3?api-version=2025-12-01 (EnvironmentVersions_CreateOrUpdate", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Invoke_UsesTheEndpointKey_AndRemoveFollowsTheDeleteOperation()
    {
        await _deployer.PublishAsync(Request(), ModelStore.Load(_model), null, default);
        var body = Encoding.UTF8.GetBytes("{\"input_data\":{\"columns\":[\"a\"],\"index\":[0,1],\"data\":[[1.5],[4]]}}");
        var response = await _deployer.InvokeAsync("churn-endpoint", new PredictionRequest(body, "application/json"), null, default);
        Assert.Equal(200, response.StatusCode);
        Assert.Equal("[3,8]", Encoding.UTF8.GetString(response.Body.Span));
        Assert.Contains($"POST {_fake.WsPath}/onlineEndpoints/churn-endpoint/listKeys", _fake.Calls);

        Assert.True(await _deployer.RemoveAsync("churn-endpoint", null, null, default));
        Assert.Contains(TimeSpan.FromSeconds(10), _time.Delays);
        Assert.Null(await _deployer.GetAsync("churn-endpoint", default));
        Assert.False(await _deployer.RemoveAsync("churn-endpoint", null, null, default));
        Assert.Empty(_fake.Violations);
    }

    [Fact]
    public async Task Batch_PublishStartsAJobAndReadsItsState()
    {
        var endpoint = await _deployer.PublishAsync(Request("churn-batch") with { Batch = true, ComputeName = "cpu-cluster" }, ModelStore.Load(_model), null, default);
        Assert.Equal("Batch", endpoint.Kind);
        Assert.Equal("blue", endpoint.DefaultDeployment);
        Assert.Empty(_fake.Violations);
        var job = await _deployer.StartBatchJobAsync("churn-batch", "azureml://datastores/workspaceblobstore/paths/inputs/", "UriFolder", default);
        Assert.Equal("Running", job.Properties!.Status);
        var again = await _deployer.GetBatchJobAsync(job.Name!, default);
        Assert.Equal("azureml://datastores/workspaceblobstore/paths/inputs/", again.Properties!.Description);
    }

    [Fact]
    public void Plan_ListsEachCallWithoutSendingAny()
    {
        var plan = AzureMLDeployer.Plan(_arm.BaseAddress, _client.Workspace, Request() with { Traffic = new Dictionary<string, int> { ["blue"] = 90, ["green"] = 10 } });
        Assert.All(plan, c => Assert.Contains("api-version=2025-12-01", c.StartsWith("PUT blobs", StringComparison.Ordinal) ? "api-version=2025-12-01" : c));
        Assert.Contains(plan, c => c.StartsWith("PUT https://management.fake.test/subscriptions/", StringComparison.Ordinal) && c.Contains("/onlineEndpoints/churn-endpoint/deployments/blue?"));
        Assert.EndsWith("(OnlineEndpoints_CreateOrUpdate, traffic blue=90, green=10)", plan[^1]);
        Assert.Empty(_fake.Calls);
    }
}
