using System.Text.Json.Nodes;
using MlModels.Core.Tests;
using MlModels.Deploy.Kubernetes;
using MlModels.KubernetesFake;

namespace MlModels.Deploy.Tests.Kubernetes;

/// <summary>The Kubernetes target through the official client against the API server fake (tests/MlModels.KubernetesFake).</summary>
[Trait("Category", "Fast")]
public sealed class KubernetesDeploymentTargetTests
{
    private readonly KubeApiFake _fake = new();
    private readonly string _dir = TestPaths.NewTempDir();
    private readonly string _kubeconfig;

    public KubernetesDeploymentTargetTests()
    {
        _kubeconfig = Path.Combine(_dir, "config");
        File.WriteAllText(_kubeconfig, KubeApiHttpServer.Kubeconfig(new Uri("http://kube.fake.test"), _fake.Token, "fake", "models"));
    }

    private KubernetesDeploymentTarget Target(string? context = null, string? ns = null) =>
        (KubernetesDeploymentTarget)DeploymentTargetFactory.Default.Create("kubernetes", new KubernetesTargetSettings
        {
            KubeconfigPath = _kubeconfig,
            Context = context,
            Namespace = ns,
            Handler = _fake.CreateHandler,
        });

    private static KubernetesDeploymentOptions Options(KubernetesWorkloadKind kind, int min = 1, int max = 1) => new()
    {
        Name = "churn",
        Image = "registry.example.com/churn:1.0",
        Kind = kind,
        MinReplicas = min,
        MaxReplicas = max,
        PollInterval = TimeSpan.FromMilliseconds(20),
        Timeout = TimeSpan.FromSeconds(20),
    };

    [Fact]
    public async Task Create_InferenceService_PostsItAndWaitsForReady()
    {
        using var target = Target();
        Assert.Equal("models", target.Namespace); // the context's namespace
        var d = await target.CreateAsync(Options(KubernetesWorkloadKind.InferenceService), null, default);
        var own = Assert.IsType<KubernetesDeployment>(d.Resource);
        Assert.True(own.Ready);
        Assert.Equal(new Uri("http://churn.models.example.com"), d.ScoringUri);
        Assert.Equal("churn", own.ModelName);
        Assert.Contains("POST /apis/serving.kserve.io/v1beta1/namespaces/models/inferenceservices", _fake.Calls);
        Assert.Contains("GET /apis/serving.kserve.io/v1beta1/namespaces/models/inferenceservices/churn", _fake.Calls);
        var stored = _fake.Find("inferenceservices", "models", "churn")!;
        Assert.Equal("MlModels", (string?)stored["metadata"]!["labels"]!["app.kubernetes.io/managed-by"]);
        Assert.Equal("registry.example.com/churn:1.0", (string?)stored["spec"]!["predictor"]!["containers"]![0]!["image"]);
    }

    [Fact]
    public async Task Create_Deployment_MakesDeploymentServiceAndAutoscaler_AndWaitsForAvailableReplicas()
    {
        using var target = Target();
        var d = await target.CreateAsync(Options(KubernetesWorkloadKind.Deployment, 2, 4), null, default);
        var own = Assert.IsType<KubernetesDeployment>(d.Resource);
        Assert.True(own.Ready);
        Assert.Equal("2/2 available", own.Status);
        Assert.Equal(new Uri("http://churn.models.svc.cluster.local:8080/"), own.ClusterUrl);
        Assert.Equal(
            ["deployments/models/churn", "horizontalpodautoscalers/models/churn", "services/models/churn"],
            _fake.Keys());
    }

    [Fact]
    public async Task Create_RefusesObjectsThatExist_WithoutPostingAnything()
    {
        using var target = Target();
        await target.CreateAsync(Options(KubernetesWorkloadKind.Deployment), null, default);
        var posts = _fake.Calls.Count(c => c.StartsWith("POST", StringComparison.Ordinal));
        var ex = await Assert.ThrowsAsync<KubernetesApiException>(() => target.CreateAsync(Options(KubernetesWorkloadKind.Deployment), null, default));
        Assert.Equal((409, "AlreadyExists"), (ex.StatusCode, ex.Reason));
        Assert.Contains("'churn' already exists in namespace 'models'", ex.Message, StringComparison.Ordinal);
        Assert.Equal(posts, _fake.Calls.Count(c => c.StartsWith("POST", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Create_ReportsTheApisOwn409_WhenAnotherClientCreatesItBetweenPlanAndDeploy()
    {
        using var target = Target();
        var plan = await target.PlanAsync(Options(KubernetesWorkloadKind.InferenceService), default);
        _fake.Seed("inferenceservices", "models", new JsonObject
        {
            ["apiVersion"] = "serving.kserve.io/v1beta1", ["kind"] = "InferenceService", ["metadata"] = new JsonObject { ["name"] = "churn" },
        });
        var ex = await Assert.ThrowsAsync<KubernetesApiException>(() => target.DeployAsync(plan, null, default));
        Assert.Equal((409, "AlreadyExists"), (ex.StatusCode, ex.Reason));
        Assert.Equal("inferenceservices.serving.kserve.io \"churn\" already exists", ex.Message);
    }

    [Fact]
    public async Task Update_ReplacesWithTheLiveResourceVersion_KeepingTheServicesClusterIP()
    {
        using var target = Target();
        await target.CreateAsync(Options(KubernetesWorkloadKind.Deployment, 1, 3), null, default);
        var ip = (string?)_fake.Find("services", "models", "churn")!["spec"]!["clusterIP"];
        await target.UpdateAsync(Options(KubernetesWorkloadKind.Deployment, 1, 3) with { Image = "registry.example.com/churn:2.0" }, null, default);
        var deployment = _fake.Find("deployments", "models", "churn")!;
        Assert.Equal("registry.example.com/churn:2.0", (string?)deployment["spec"]!["template"]!["spec"]!["containers"]![0]!["image"]);
        Assert.Equal(2L, (long)deployment["metadata"]!["generation"]!);
        Assert.Equal(ip, (string?)_fake.Find("services", "models", "churn")!["spec"]!["clusterIP"]);
        Assert.Contains("PUT /apis/apps/v1/namespaces/models/deployments/churn", _fake.Calls);
        Assert.Contains("PUT /api/v1/namespaces/models/services/churn", _fake.Calls);
    }

    [Fact]
    public async Task Update_WithAStaleResourceVersion_IsTheApisConflict()
    {
        using var target = Target();
        await target.CreateAsync(Options(KubernetesWorkloadKind.InferenceService), null, default);
        var plan = await target.PlanAsync(Options(KubernetesWorkloadKind.InferenceService) with { Mode = KubernetesDeployMode.Replace }, default);
        Assert.Contains(plan.Calls, c => c.StartsWith("PUT /apis/serving.kserve.io/v1beta1/namespaces/models/inferenceservices/churn",
            StringComparison.Ordinal));
        var live = _fake.Find("inferenceservices", "models", "churn")!;
        live["metadata"]!.AsObject().Remove("resourceVersion");
        _fake.Seed("inferenceservices", "models", live); // another client's change: a new resourceVersion
        var ex = await Assert.ThrowsAsync<KubernetesApiException>(() => target.DeployAsync(plan, null, default));
        Assert.Equal((409, "Conflict"), (ex.StatusCode, ex.Reason));
        Assert.Contains("the object has been modified", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ANamespaceThatDoesNotExist_IsTheApis404NamingIt()
    {
        using var target = Target(ns: "nowhere");
        var ex = await Assert.ThrowsAsync<KubernetesApiException>(() => target.CreateAsync(Options(KubernetesWorkloadKind.Deployment), null, default));
        Assert.Equal(404, ex.StatusCode);
        Assert.Equal("namespaces \"nowhere\" not found", ex.Message);
        Assert.Equal(("nowhere", "namespaces"), (ex.DetailsName, ex.DetailsKind));
    }

    [Fact]
    public void AKubeconfigWithoutTheContext_IsAnErrorNamingTheContextAndFile()
    {
        var ex = Assert.Throws<KubernetesConfigException>(() => Target(context: "prod"));
        Assert.Contains("'prod'", ex.Message, StringComparison.Ordinal);
        Assert.Contains(_kubeconfig, ex.Message, StringComparison.Ordinal);
        Assert.Contains("it has: fake", ex.Message, StringComparison.Ordinal);
        Assert.Equal(_kubeconfig, ex.Path);
        Assert.Equal((KubernetesConfigProblem.ContextNotFound, "prod"), (ex.Problem, ex.Context));
    }

    [Fact]
    public async Task InvalidNames_AreRefusedBeforeAnyCall()
    {
        using var target = Target();
        await Assert.ThrowsAsync<ArgumentException>(() => target.PlanAsync(Options(KubernetesWorkloadKind.Deployment) with { Name = "Churn_1" }, default));
        await Assert.ThrowsAsync<ArgumentException>(() => target.DeleteAsync(new KubernetesDeleteOptions("bad.name"), null, default));
        Assert.Throws<ArgumentException>(() => Target(ns: "Bad_NS"));
        Assert.Empty(_fake.Calls);
    }

    [Fact]
    public async Task Waiting_TimesOutWithTheLastStatus_AndCancels()
    {
        _fake.NeverReady = true;
        using var target = Target();
        var ex = await Assert.ThrowsAsync<TimeoutException>(() => target.CreateAsync(
            Options(KubernetesWorkloadKind.Deployment) with { Timeout = TimeSpan.FromMilliseconds(200) }, null, default));
        Assert.Contains("0/1 available", ex.Message, StringComparison.Ordinal);

        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => target.UpdateAsync(Options(KubernetesWorkloadKind.Deployment), null, cts.Token));
    }

    [Fact]
    public async Task WithoutKServe_AnInferenceServiceIsRefusedClearly_AndGetListStillWork()
    {
        _fake.KServeInstalled = false;
        using var target = Target();
        var ex = await Assert.ThrowsAsync<KubernetesApiException>(() =>
            target.CreateAsync(Options(KubernetesWorkloadKind.InferenceService), null, default));
        Assert.Contains("KServe is not installed", ex.Message, StringComparison.Ordinal);
        await target.CreateAsync(Options(KubernetesWorkloadKind.Deployment), null, default);
        Assert.Equal("churn", Assert.Single(await target.ListAsync(default)).Name);
        Assert.NotNull(await target.GetAsync("churn", default));
    }

    [Fact]
    public async Task GetListDelete_SeeOnlyTheModulesObjects()
    {
        using var target = Target();
        await target.CreateAsync(Options(KubernetesWorkloadKind.Deployment, 1, 2), null, default);
        await target.CreateAsync(Options(KubernetesWorkloadKind.InferenceService) with { Name = "fraud" }, null, default);
        _fake.Seed("deployments", "models", new JsonObject
        {
            ["apiVersion"] = "apps/v1", ["kind"] = "Deployment", ["metadata"] = new JsonObject { ["name"] = "someone-else" },
        });
        var all = await target.ListAsync(default);
        Assert.Equal(["churn", "fraud"], all.Select(d => d.Name).Order());
        Assert.Equal(KubernetesWorkloadKind.InferenceService, ((KubernetesDeployment)(await target.GetAsync("fraud", default))!.Resource!).Kind);
        Assert.Null(await target.GetAsync("someone-else", default));
        Assert.Null(await target.GetAsync("missing", default));

        var removed = await target.DeleteAsync(new KubernetesDeleteOptions("churn"), null, default);
        Assert.True(removed.Found);
        Assert.Equal(["HorizontalPodAutoscaler/churn", "Service/churn", "Deployment/churn"], (List<string>)removed.Resource!);
        Assert.Contains("DELETE /apis/apps/v1/namespaces/models/deployments/churn", _fake.Calls);
        Assert.False((await target.DeleteAsync(new KubernetesDeleteOptions("churn"), null, default)).Found);
        Assert.False((await target.DeleteAsync(new KubernetesDeleteOptions("someone-else"), null, default)).Found);
        Assert.NotNull(_fake.Find("deployments", "models", "someone-else"));
    }

    [Fact]
    public async Task Predict_PostsTheV2RequestToTheInferenceServicesUrl_UnderItsModelName()
    {
        var seen = new List<string>();
        using var scoring = new Scoring(r => seen.Add($"{r.Method} {r.RequestUri!.AbsoluteUri}"));
        using var target = new KubernetesDeploymentTarget(KubernetesConnection.Open(new KubernetesTargetSettings
        {
            KubeconfigPath = _kubeconfig,
            Handler = _fake.CreateHandler,
        }), scoring);
        await target.CreateAsync(Options(KubernetesWorkloadKind.InferenceService) with { ModelName = "churn-v2" }, null, default);
        var answer = await target.PredictAsync("churn", new PredictionRequest("""{"inputs": []}"""u8.ToArray(), "application/json"), null, default);
        Assert.Equal(200, answer.StatusCode);
        Assert.Equal(["POST http://churn.models.example.com/v2/models/churn-v2/infer"], seen);
        await Assert.ThrowsAsync<KubernetesApiException>(() =>
            target.PredictAsync("missing", new PredictionRequest("{}"u8.ToArray(), "application/json"), null, default));
    }

    private sealed class Scoring(Action<HttpRequestMessage> see) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            see(request);
            return Task.FromResult(new HttpResponseMessage(System.Net.HttpStatusCode.OK) { Content = new StringContent("""{"outputs": []}""") });
        }
    }

    [Fact]
    public void KubeconfigFiles_FollowKubectl_ExplicitPathThenKUBECONFIGList()
    {
        var second = Path.Combine(_dir, "second");
        File.WriteAllText(second, KubeApiHttpServer.Kubeconfig(new Uri("http://other.fake.test"), "t", "other", null));
        var saved = Environment.GetEnvironmentVariable("KUBECONFIG");
        try
        {
            Environment.SetEnvironmentVariable("KUBECONFIG", string.Join(Path.PathSeparator, _kubeconfig, Path.Combine(_dir, "missing"), second));
            Assert.Equal([_kubeconfig, second], KubernetesConnection.KubeconfigFiles(null));
            Assert.Equal(["fake", "other"], KubernetesConnection.ContextNames(null));
            Assert.Equal([second], KubernetesConnection.KubeconfigFiles(second));
            // Merged as kubectl merges: the first file's current-context, every file's contexts.
            using var c = KubernetesConnection.Open(new KubernetesTargetSettings { Context = "other" });
            Assert.Equal("default", c.Namespace);
            Assert.Contains("context 'other'", c.Where, StringComparison.Ordinal);
        }
        finally { Environment.SetEnvironmentVariable("KUBECONFIG", saved); }
    }
}
